#!/bin/bash
# inspect.sh <trace|syscalls|alloc> <gateway-config.json> <label> [sub-topic]
# One run-one.sh run (warm-up 8 s, window 20-25 s) with a look inside the gateway while it runs, 10 s after it is up:
#   trace     dotnet-trace --profile dotnet-sampled-thread-time for 15 s -> $BENCH_OUT/<label>.speedscope.json
#             (aggregate with /tmp/prof/agg.py or any speedscope viewer)
#   syscalls  perf stat of the gateway's sendto/recvfrom/futex/epoll_wait/pwrite64 and context switches for 10 s
#   alloc     dotnet-counters: dotnet.gc.heap.total_allocated per second for 12 s, with the samples read/published
#             from /metrics over the same span -> bytes allocated per sample
# Same environment as run-one.sh (BENCH_OUT, GW_DLL, MBSERVER_EVERY_REQUEST, SUB_TOPIC); run it under the shared lock:
#   flock /tmp/e2e-bench.lock env GW_DLL=... BENCH_OUT=... MBSERVER_EVERY_REQUEST=1 bench/EndToEnd/inspect.sh alloc cfg.json x
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
MODE=$1; CONF=$2; LABEL=$3
: "${BENCH_OUT:?set BENCH_OUT}"; export PATH=$PATH:$HOME/.dotnet/tools
OUT=$BENCH_OUT/results/$LABEL
WIN=20; [ "$MODE" = trace ] && WIN=25
"$HERE/run-one.sh" "$CONF" "$LABEL" 8 "$WIN" > /dev/null 2>&1 & R=$!
for i in $(seq 600); do grep -q 'gateway pid' "$OUT/run.txt" 2>/dev/null && break; sleep 0.2; done
sleep 10
P=$(sed -n 's/gateway pid \([0-9]*\).*/\1/p' "$OUT/run.txt")
M=$(sed -n 's/.*metrics \(http[^;]*\);.*/\1/p' "$OUT/run.txt")
case $MODE in
  trace) dotnet-trace collect -p "$P" --profile dotnet-sampled-thread-time --duration 00:00:00:15 -o "$BENCH_OUT/$LABEL.nettrace" > /dev/null 2>&1 ;;
  syscalls) perf stat -x, -e 'syscalls:sys_enter_sendto,syscalls:sys_enter_recvfrom,syscalls:sys_enter_futex,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_pwrite64,context-switches,task-clock' -p "$P" sleep 10 2> "$OUT/perf.txt" ;;
  alloc)
    curl -s "$M" > "$OUT/m-a.txt"
    dotnet-counters collect -p "$P" --counters 'System.Runtime[dotnet.gc.heap.total_allocated,dotnet.gc.collections]' --refresh-interval 1 --duration 00:00:00:12 --format csv -o "$OUT/counters.csv" > /dev/null 2>&1
    curl -s "$M" > "$OUT/m-b.txt" ;;
  *) echo "unknown mode $MODE" >&2; kill "$R"; exit 2 ;;
esac
wait "$R"
case $MODE in
  trace) dotnet-trace convert "$BENCH_OUT/$LABEL.nettrace" --format speedscope -o "$BENCH_OUT/$LABEL" > /dev/null 2>&1; echo "$BENCH_OUT/$LABEL.speedscope.json" ;;
  syscalls) python3 - "$OUT" <<'PY'
import sys
o = sys.argv[1]
for line in open(o + "/perf.txt"):
    f = line.strip().split(",")
    if len(f) > 3 and f[0].replace(".", "").isdigit():
        n = f[2].replace("syscalls:sys_enter_", "")
        print(f"{n}: {float(f[0]) / 10:.0f}/s" if n != "task-clock" else f"cpu: {float(f[0]) / 100:.0f} % of a core")
PY
  ;;
  alloc) python3 - "$OUT" <<'PY'
import csv, os, sys
o = sys.argv[1]
rows = list(csv.reader(open(o + "/counters.csv")))[1:]
rates = [float(r[4]) for r in rows if "total_allocated" in r[2]][1:]
def metric(f, k): return sum(float(l.rsplit(" ", 1)[1]) for l in open(f) if l.startswith(k))
span = os.path.getmtime(o + "/m-b.txt") - os.path.getmtime(o + "/m-a.txt")
read = (metric(o + "/m-b.txt", "gateway_driver_samples_read_total") - metric(o + "/m-a.txt", "gateway_driver_samples_read_total")) / span
pub = (metric(o + "/m-b.txt", "gateway_samples_published_total") - metric(o + "/m-a.txt", "gateway_samples_published_total")) / span
a = sum(rates) / max(len(rates), 1)
print(f"allocated {a / 1e6:.2f} MB/s; read {read:.0f}/s, published {pub:.0f}/s: {a / max(read, 1):.0f} B per sample read, {a / max(pub, 1):.0f} B per sample published")
PY
  ;;
esac
