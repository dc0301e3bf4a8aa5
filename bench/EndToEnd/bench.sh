#!/bin/bash
# bench.sh [--baseline REF] [--reps N] [--warm S] [--window S] [--only NAME,NAME] [--out DIR] [--replay OUTAGE_S] [--scaleout N]
#
# The end-to-end Modbus TCP -> disk buffer -> mosquitto benchmark of issue 11, on this machine, with the
# gateway of this checkout (the candidate) and the gateway of git REF (the baseline, default 2be2164: the
# code before the speed work) measured in the same run, interleaved (the order flips every repetition), so
# the ratios candidate/baseline hold on a noisy box. Every process on 127.0.0.1; ports 15502 and 18850 fixed:
# one run at a time.
#
# Scenarios (every-request mode: mbserver changes every value on every read, so the change filter passes every
# sample and one read of 100 registers = 100 samples = 100 UNS messages):
#   max1conn     1 driver, 100 holding registers, poll as fast as the gateway allows (1 ms; the baseline's
#                floor is 10 ms, it refuses less)
#   overload10   10 drivers (10 connections) x 100 registers every 10 ms: ~100k samples/s offered
#   steady1hz    1000 tags at 1 Hz (10 poll groups of 100 on one connection; values change every 100 ms)
#   spb-max1conn, spb-overload10: the first two with mqtt.format sparkplugb
# Figures per run: samples/s at the broker, CPU-s per 1M samples (utime+stime from /proc), RSS, lag p50/p99
# (subscriber arrival - the sample's source timestamp), published vs read. --replay S runs the outage drill
# (replay.py: the link cut for S seconds at 1000 samples/s) with both gateways instead of the scenarios;
# --scaleout N runs N candidate gateways of 1000 tags at 1 Hz against one mosquitto (scaleout.py).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BASELINE=2be2164 REPS=1 WARM=10 WIN=30 ONLY="" OUT=${BENCH_OUT:-/tmp/gateway-e2e-bench} REPLAY="" SCALEOUT=""
while [ $# -gt 0 ]; do
  case $1 in
    --baseline) BASELINE=$2; shift 2 ;;
    --reps) REPS=$2; shift 2 ;;
    --warm) WARM=$2; shift 2 ;;
    --window) WIN=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --replay) REPLAY=$2; shift 2 ;;
    --scaleout) SCALEOUT=$2; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
export BENCH_OUT=$OUT
mkdir -p "$OUT/bin" "$OUT/configs" "$OUT/results"

# Tools: libmodbus server, libmosquitto counting subscriber (Debian packages).
need=()
for p in libmodbus-dev libmosquitto-dev mosquitto gcc python3 socat; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
gcc -O2 -Wall -Wextra -o "$OUT/bin/mbserver" "$HERE/src/mbserver.c" $(pkg-config --cflags --libs libmodbus)
gcc -O2 -Wall -Wextra -o "$OUT/bin/mqttcount" "$HERE/src/mqttcount.c" -lmosquitto -lpthread

# Builds: the candidate (this checkout) and the baseline (a detached worktree of REF).
dotnet build "$ROOT/src/Gateway/Gateway.csproj" -c Release -nologo -v quiet -o "$OUT/candidate" >/dev/null
if [ ! -f "$OUT/baseline/gateway.dll" ] || [ "$(cat "$OUT/baseline/REF" 2>/dev/null)" != "$BASELINE" ]; then
  rm -rf "$OUT/baseline-src" "$OUT/baseline"
  git -C "$ROOT" worktree add --detach -f "$OUT/baseline-src" "$BASELINE" >/dev/null 2>&1
  dotnet build "$OUT/baseline-src/src/Gateway/Gateway.csproj" -c Release -nologo -v quiet -o "$OUT/baseline" >/dev/null
  git -C "$ROOT" worktree remove --force "$OUT/baseline-src" >/dev/null 2>&1 || true
  echo "$BASELINE" > "$OUT/baseline/REF"
fi

if [ -n "$SCALEOUT" ]; then
  python3 "$HERE/scaleout.py" "$OUT" "$OUT/candidate/gateway.dll" "$SCALEOUT" "$WIN" "$WARM"
  exit 0
fi
if [ -n "$REPLAY" ]; then
  for which in baseline candidate; do
    echo "=== replay $which, outage ${REPLAY} s, $(date -u +%T)"
    python3 "$HERE/replay.py" "$OUT" "$OUT/$which/gateway.dll" "$which" "$REPLAY" 1000
  done
  exit 0
fi

G="python3 $HERE/gen-config.py"
$G 1 1 shared "$OUT/configs/max1conn-candidate.json" >/dev/null
$G 1 10 shared "$OUT/configs/max1conn-baseline.json" >/dev/null
$G 10 10 per-reader "$OUT/configs/overload10-candidate.json" >/dev/null
cp "$OUT/configs/overload10-candidate.json" "$OUT/configs/overload10-baseline.json"
$G 10 1000 shared "$OUT/configs/steady1hz-candidate.json" >/dev/null
cp "$OUT/configs/steady1hz-candidate.json" "$OUT/configs/steady1hz-baseline.json"
$G 1 1 shared "$OUT/configs/spb-max1conn-candidate.json" sparkplugb >/dev/null
$G 1 10 shared "$OUT/configs/spb-max1conn-baseline.json" sparkplugb >/dev/null
$G 10 10 per-reader "$OUT/configs/spb-overload10-candidate.json" sparkplugb >/dev/null
cp "$OUT/configs/spb-overload10-candidate.json" "$OUT/configs/spb-overload10-baseline.json"

run() {  # run <scenario> <which> <rep>
  local scenario=$1 which=$2 rep=$3 every=1 sub='lab/#'
  [ "$scenario" = steady1hz ] && every=0
  case $scenario in spb-*) sub='spBv1.0/#' ;; esac
  echo "=== $scenario $which r$rep $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
  GW_DLL="$OUT/$which/gateway.dll" SUB_TOPIC=$sub MBSERVER_EVERY_REQUEST=$every \
    "$HERE/run-one.sh" "$OUT/configs/$scenario-$which.json" "$scenario-$which-r$rep" "$WARM" "$WIN" >/dev/null 2>&1 || true
}
scenarios="max1conn overload10 steady1hz spb-max1conn spb-overload10"
for r in $(seq "$REPS"); do
  for s in $scenarios; do
    if [ -n "$ONLY" ] && [[ ",$ONLY," != *",$s,"* ]]; then continue; fi
    if [ $((r % 2)) = 1 ]; then run "$s" candidate "$r"; run "$s" baseline "$r"; else run "$s" baseline "$r"; run "$s" candidate "$r"; fi
  done
done
python3 "$HERE/report.py" "$OUT/results" | tee "$OUT/results.md"
