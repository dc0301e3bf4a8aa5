#!/usr/bin/env bash
# tests/aot/smoke.sh GATEWAY_EXECUTABLE [CONFIG]
# Smoke test of the native AOT build (./test.sh publishes it while the xUnit suite runs, then calls this): what breaks
# under AOT and full trimming breaks at run time, not at build time (reflection over trimmed types, JSON metadata
# left out), so the binary is started on the default config (simulated line, embedded broker, dashboard) on free
# loopback ports and asked. One line per check, "ok <name>" or "FAIL <name>: <why>", then "N passed, N failed".
# Exit 0 when every check passed. Needs curl and mosquitto_sub (mosquitto-clients, installed by ./test.sh).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
CONF=$(readlink -f "${2:-$HERE/../../config/gateway.json}")
HTTP=$(free_port); MQTT=$(free_port)
BASE=http://127.0.0.1:$HTTP

# check-config: valid, and a wrong key refused with its JSON path (the schema walk reflects over the options types).
if "$GW" check-config "$CONF" > "$WORK/check.txt" 2>&1; then ok check-config-valid; else fail check-config-valid "$(head -3 "$WORK/check.txt")"; fi
python3 - "$CONF" "$WORK/bad.json" <<'EOF'
import json, re, sys
text = re.sub(r'^\s*//.*$', '', open(sys.argv[1]).read(), flags=re.M)
doc = json.loads(text)
doc["mqtt"]["portt"] = 1
doc["mqtt"]["format"] = "sparkplugb"
json.dump(doc, open(sys.argv[2], "w"))
EOF
"$GW" check-config "$WORK/bad.json" > "$WORK/bad.txt" 2>&1; rc=$?
if [ $rc -eq 2 ] && grep -q "^mqtt.portt: unknown key (did you mean 'port'?)" "$WORK/bad.txt"; then ok check-config-refuses; else fail check-config-refuses "exit $rc: $(head -3 "$WORK/bad.txt")"; fi

cd "$WORK"
GATEWAY_HTTP__URLS=$BASE GATEWAY_MQTT__PORT=$MQTT GATEWAY_BUFFER__PATH="$WORK/buffer.db" "$GW" run --config "$CONF" > "$WORK/gateway.log" 2>&1 & PID=$!; PIDS+=($PID)
for _ in $(seq 300); do grep -q "connected to MQTT broker" "$WORK/gateway.log" && break; kill -0 $PID 2>/dev/null || break; sleep 0.1; done
if grep -q "connected to MQTT broker" "$WORK/gateway.log"; then ok start; else fail start "$(grep -m3 -E '^(fail|crit)|Exception' "$WORK/gateway.log")"; fi
mosquitto_sub -h 127.0.0.1 -p "$MQTT" -t '#' -q 1 -C 5 -W 20 -v > "$WORK/mqtt.txt" 2>&1 & SUB=$!; PIDS+=($SUB)
for _ in $(seq 100); do curl -sf "$BASE/healthz" > /dev/null && break; sleep 0.1; done

# get NAME PATH PATTERN: 200 and a body matching the extended regex.
get() {
  local code
  code=$(curl -s -o "$WORK/body" -w '%{http_code}' -H "X-Gateway-Request: smoke" "$BASE$2")
  if [ "$code" = 200 ] && grep -qE "$3" "$WORK/body"; then ok "$1"; else fail "$1" "HTTP $code: $(head -c 200 "$WORK/body")"; fi
}
get healthz /healthz '"status":"ok".*"drivers":\[\{"name":"line-sim"'
get api-status /api/status '"mqtt":\{"connected":true.*"buffer":\{"samples":[0-9]+.*"drivers":\[\{"name":"line-sim","state":"[A-Za-z]+".*"drill":\{'
get api-tags /api/tags '"tag":"press/temperature".*"quality":"Good"'
get api-oee /api/oee '"machines":\[\{'
get api-oee-history /api/oee/history '"timeZone":"Europe/Paris"'
get api-session /api/session '"loginRequired":false,"gateway":"demo-gateway"'
get api-drill /api/drill '"outage":null'
get dashboard / '<html'
get commission /commission '<html'
get commission-config /api/commission/config '"driverTypes":\[.*"modbus-tcp".*"document":\{'
curl -s -N -m 3 "$BASE/api/stream" > "$WORK/stream.txt" 2>/dev/null
if grep -q '^event: tags' "$WORK/stream.txt" && grep -q '^event: status' "$WORK/stream.txt"; then ok live-feed; else fail live-feed "$(head -c 200 "$WORK/stream.txt")"; fi
code=$(curl -s -o "$WORK/body" -w '%{http_code}' -X POST -H "X-Gateway-Request: smoke" "$BASE/api/config/reload")
if [ "$code" = 200 ] && grep -q '"result":"unchanged"' "$WORK/body"; then ok config-reload; else fail config-reload "HTTP $code: $(head -c 200 "$WORK/body")"; fi

wait $SUB 2>/dev/null
if [ "$(grep -c '^acme/lyon/assembly/line-1/' "$WORK/mqtt.txt")" -ge 5 ] && grep -q '"quality":"Good"' "$WORK/mqtt.txt"; then ok mqtt-samples; else fail mqtt-samples "$(head -c 300 "$WORK/mqtt.txt")"; fi
# /metrics counts what was published (samples acknowledged by the embedded broker).
curl -s "$BASE/metrics" > "$WORK/metrics.txt"
if awk '$1 ~ /^gateway_samples_published_total/ && $2 > 0 { found = 1 } END { exit !found }' "$WORK/metrics.txt"; then ok metrics; else fail metrics "$(grep -m2 samples_published "$WORK/metrics.txt")"; fi
# The gen0 budget cap is compiled into the native build (System.GC.Gen0MaxBudget in Gateway.csproj: a 2 MB budget
# keeps RSS flat at 1 Hz, docs/performance.md) and the GC applies it; the kernel's RSS is at /metrics.
if grep -qx 'gateway_gc_gen0_budget_max_bytes 2097152' "$WORK/metrics.txt" && awk '$1 == "process_resident_memory_bytes" && $2 > 1e6 { found = 1 } END { exit !found }' "$WORK/metrics.txt"; then ok gc-budget-and-rss; else fail gc-budget-and-rss "$(grep -E '^(gateway_gc_gen0|process_resident)' "$WORK/metrics.txt")"; fi

kill -TERM $PID; wait $PID; rc=$?
if [ $rc -eq 0 ] && ! grep -qE '^(fail|crit):' "$WORK/gateway.log"; then ok clean-run-and-stop; else fail clean-run-and-stop "exit $rc; $(grep -m3 -A3 -E '^(fail|crit):' "$WORK/gateway.log")"; fi

finish
