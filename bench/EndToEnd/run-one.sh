#!/bin/bash
# run-one.sh <gateway-config.json> <label> [warmup_s=10] [window_s=60]
# One scenario of bench.sh (adapted from ../shared/bench/nodered/run-gateway.sh): mbserver :15502, mosquitto :18850
# (same mosquitto.conf), mqttcount (lab/# QoS 1; SUB_TOPIC overrides: 'spBv1.0/#' for mqtt.format
# sparkplugb, where mqttcount counts the metrics in each DDATA), then
# `dotnet $GW_DLL run --config <config>` with its buffer in the run's out dir and its
# HTTP (/metrics) on a free loopback port. Waits for the MQTT connection + warm-up, measures for
# <window_s> with sample.py (METRICS_URL = the gateway's /metrics), writes results/<label>/summary.json,
# stops everything by PID.
#   GW_DLL           required: <gateway checkout>/src/Gateway/bin/Release/net10.0/gateway.dll
#                    (not GATEWAY_*: the gateway reads every GATEWAY_* variable as a config key)
#   GW_BIN           instead of GW_DLL: a native executable run as it is (the native AOT publish,
#                    `dotnet publish src/Gateway -c Release -r linux-x64 -p:PublishAot=true -o DIR`: DIR/gateway)
#   MBSERVER_EVERY_REQUEST=1   mbserver advances its values on every request (see src/mbserver.c)
#   KEEP_BUFFER=1    keep the run's buffer.db (deleted after the run otherwise; its size goes to run.txt)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
B=${BENCH_OUT:?set BENCH_OUT (bench.sh does)}
if [ -n "${GW_BIN:-}" ]; then
  [ -x "$GW_BIN" ] || { echo "no executable $GW_BIN (publish the native AOT build first)" >&2; exit 2; }
  GW_CMD=("$GW_BIN")
else
  : "${GW_DLL:?set GW_DLL to the Release build of the gateway: <checkout>/src/Gateway/bin/Release/net10.0/gateway.dll (or GW_BIN to a native one)}"
  [ -f "$GW_DLL" ] || { echo "no $GW_DLL (build the gateway in Release first)" >&2; exit 2; }
  GW_CMD=(dotnet "$GW_DLL")
fi
CONF=$(readlink -f "$1"); LABEL=$2; WARM=${3:-10}; WIN=${4:-60}
OUT=$B/results/$LABEL
rm -rf "$OUT"; mkdir -p "$OUT"
HTTP_PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
METRICS=http://127.0.0.1:$HTTP_PORT/metrics
GW= MC= MQ= MB=
stop() {  # stop every process we started, by PID, newest first
  for p in $GW $MC $MQ $MB; do
    if kill -0 "$p" 2>/dev/null; then
      kill -TERM "$p"
      for i in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$p" 2>/dev/null && kill -KILL "$p"
    fi
    wait "$p" 2>/dev/null
  done
  GW= MC= MQ= MB=
}
trap stop EXIT

"${GW_CMD[@]}" check-config "$CONF" > "$OUT/check-config.txt" 2>&1 || { cat "$OUT/check-config.txt" >&2; exit 2; }
cp "$CONF" "$OUT/gateway.json"
$B/bin/mbserver 15502 "$OUT/mbserver.count" 2> "$OUT/mbserver.log" & MB=$!
mosquitto -c $HERE/mosquitto.conf 2> "$OUT/mosquitto.log" & MQ=$!
sleep 0.5
$B/bin/mqttcount 18850 "${SUB_TOPIC:-lab/#}" 1 "$OUT/mqtt.status" "$OUT/mqtt.timeline" 2> "$OUT/mqttcount.log" & MC=$!
T0=$(date +%s.%N)
GATEWAY_BUFFER__PATH="$OUT/buffer.db" GATEWAY_HTTP__URLS="http://127.0.0.1:$HTTP_PORT" \
  "${GW_CMD[@]}" run --config "$CONF" > "$OUT/gateway.log" 2>&1 & GW=$!
for i in $(seq 600); do grep -q "connected to MQTT broker" "$OUT/gateway.log" && break; sleep 0.1; done
T1=$(date +%s.%N)
echo "gateway pid $GW up (MQTT connected) after $(echo "$T1 - $T0" | bc) s; mbserver mode:" \
  "$(head -1 "$OUT/mbserver.log" | sed 's/.*values change //'); metrics $METRICS; warm-up $WARM s, window $WIN s" | tee "$OUT/run.txt"
sleep "$WARM"
curl -s "$METRICS" > "$OUT/metrics-start.txt"
METRICS_URL=$METRICS /usr/bin/python3 $HERE/sample.py "$OUT" "$WIN" gateway=$GW mosquitto=$MQ mbserver=$MB mqttcount=$MC > "$OUT/summary.json"
curl -s "$METRICS" > "$OUT/metrics-end.txt"
stop
# warn/fail/crit lines while running, and during the shutdown that stop() asked for
RUNNING=$(sed '/Application is shutting down/q' "$OUT/gateway.log" | grep -cE '^(warn|fail|crit):')
echo "gateway.log warn/error lines: $RUNNING while running, $(($(grep -cE '^(warn|fail|crit):' "$OUT/gateway.log") - RUNNING)) at shutdown" | tee -a "$OUT/run.txt"
# the disk buffer can reach the quota (256 MiB) in overload: record its size, keep it only with KEEP_BUFFER=1
echo "buffer.db at stop: $(du -cm "$OUT"/buffer.db* 2>/dev/null | tail -1 | cut -f1) MB on disk" | tee -a "$OUT/run.txt"
[ "${KEEP_BUFFER:-0}" = 1 ] || rm -f "$OUT"/buffer.db "$OUT"/buffer.db-wal "$OUT"/buffer.db-shm
cat "$OUT/summary.json"
