#!/usr/bin/env bash
# End to end, same run, same machine: the simulated line at full speed (1000 tags every millisecond) -> the SQLite
# buffer -> mosquitto, once with mqtt.format uns (the reference) and once with sparkplugb; prints samples/s published
# and CPU-seconds of the gateway process per million samples published (from /proc, over the measuring window).
# Usage: bench/Sparkplug/endtoend.sh [seconds] [tags, default 1000] [formats, default "uns sparkplugb"]   (needs mosquitto and a Release build of src/Gateway)
set -euo pipefail
seconds=${1:-15}
tags=${2:-1000}
formats=${3:-uns sparkplugb}
root=$(cd "$(dirname "$0")/../.." && pwd)
dll="$root/src/Gateway/bin/Release/net10.0/gateway.dll"
work=$(mktemp -d)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
broker_port=$(free_port)
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nmax_inflight_messages 0\nmax_queued_messages 0\nuser root\n' "$broker_port" > "$work/mosquitto.conf"
/usr/sbin/mosquitto -c "$work/mosquitto.conf" > /dev/null 2>&1 &
broker=$!
trap 'kill $broker 2>/dev/null || true; rm -rf "$work"' EXIT
sleep 1
tick=$(getconf CLK_TCK)

run() { # format sink
  local format=$1 sink=$2 http dir pid
  http=$(free_port); dir="$work/$format"; mkdir -p "$dir"
  cat > "$dir/gateway.json" <<JSON
{ "gateway": { "id": "bench", "enterprise": "acme", "site": "lyon", "area": "assembly", "line": "line-1" },
  "drivers": [ { "name": "load", "type": "simulated", "intervalMs": 1, "extraTags": $tags } ],
  "buffer": { "path": "$dir/buffer.db" },
  "mqtt": { "host": "127.0.0.1", "port": $broker_port, "clientId": "bench-$format", "format": "$format", "maxInflight": 200 },
  "http": { "urls": "http://127.0.0.1:$http" } }
JSON
  (cd "$dir" && exec dotnet "$dll" run --config "$dir/gateway.json" > "$dir/log" 2>&1) &
  pid=$!
  sleep 5
  metric() { curl -s "http://127.0.0.1:$http/metrics" | awk -v k="gateway_samples_published_total{sink=\"$sink\"}" '$1==k {print $2}'; }
  cpu() { awk -v t="$tick" '{print ($14+$15)/t}' "/proc/$pid/stat"; }
  local p0 c0 p1 c1
  p0=$(metric); c0=$(cpu); sleep "$seconds"; p1=$(metric); c1=$(cpu)
  local backlog; backlog=$(curl -s "http://127.0.0.1:$http/metrics" | awk '$1=="gateway_buffer_samples" {print $2}')
  kill "$pid"; wait "$pid" 2>/dev/null || true
  python3 -c "b=float(\"$backlog\"); p=($p1-$p0)/$seconds; c=($c1-$c0); print(f'$format: {p:>10,.0f} samples/s published, {c/max(1,($p1-$p0))*1e6:5.2f} CPU-s per 1M published, {c/$seconds*100:4.0f}% of one core, backlog at end {float(\"$backlog\"):,.0f}')"
}
for f in $formats; do case $f in uns) run uns mqtt-uns ;; sparkplugb) run sparkplugb mqtt-sparkplug ;; esac; done
