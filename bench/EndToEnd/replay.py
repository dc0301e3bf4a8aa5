#!/usr/bin/env python3
"""replay.py <out dir> <gateway.dll> <label> [outage_s=60] [tags=1000]

The outage drill of issue 11, §3: a gateway reading <tags> tags at 1 Hz (mbserver changes values every
100 ms, so every read is a new value: ~<tags> samples/s) publishes through a TCP relay (socat) to mosquitto;
the relay is cut for <outage_s> seconds (the subscriber stays connected to the broker, so it misses nothing
that reaches the broker) and restored. Reported, as JSON on stdout:
  reconnect_s           relay restored -> the gateway's connection counter moves
  first_live_s          relay restored -> first live message whose sample was read after the restore
  live_lag_p99_ms       lag of live messages in the 30 s after the restore (arrival - source timestamp)
  backlog_at_restore    samples waiting in the gateway's buffer when the relay came back
  drain_s, drain_rate   how long until the buffer was empty, backlog / that time (samples/s)
  live_rate             samples/s read while connected (the line's rate)
  delivered, buffered   samples that reached the subscriber (live + history) vs samples the gateway buffered
Run by bench.sh --replay (it builds the tools), or by hand with $BENCH_OUT/bin holding mbserver and mqttcount."""
import json, os, signal, socket, subprocess, sys, time, urllib.request

out, dll, label = sys.argv[1], sys.argv[2], sys.argv[3]
outage = float(sys.argv[4]) if len(sys.argv) > 4 else 60.0
tags = int(sys.argv[5]) if len(sys.argv) > 5 else 1000
here = os.path.dirname(os.path.abspath(__file__))
run = os.path.join(out, "results", "replay-" + label)
os.makedirs(run, exist_ok=True)
for f in os.listdir(run):
    os.remove(os.path.join(run, f))

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

http = free_port()
relay_port = free_port()
config = os.path.join(run, "gateway.json")
subprocess.run([sys.executable, os.path.join(here, "gen-config.py"), str(tags // 100), "1000", "shared", config], check=True, capture_output=True)
conf = json.loads("\n".join(l for l in open(config) if not l.lstrip().startswith("//")))
conf["mqtt"]["port"] = relay_port
conf["mqtt"]["maxReconnectDelayMs"] = 30000
json.dump(conf, open(config, "w"), indent=1)

procs = []
def start(args, log, **kw):
    p = subprocess.Popen(args, stdout=open(os.path.join(run, log), "w"), stderr=subprocess.STDOUT, start_new_session=True, **kw)
    procs.append(p)
    return p

def stop(p):
    if p.poll() is None:
        os.killpg(p.pid, signal.SIGTERM)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)

def metrics():
    text = urllib.request.urlopen(f"http://127.0.0.1:{http}/metrics", timeout=2).read().decode()
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            key = name.split("{")[0]
            try:
                values[key] = values.get(key, 0.0) + float(value)
            except ValueError:
                pass
    return values

def relay():
    return start(["socat", f"TCP-LISTEN:{relay_port},bind=127.0.0.1,reuseaddr,fork", "TCP:127.0.0.1:18850"], "socat.log")

def history():
    try:
        return [float(x) for x in open(os.path.join(run, "mqtt.status.history")).read().split()]
    except (OSError, ValueError):
        return [0, 0, 0, 0]

def status():
    return open(os.path.join(run, "mqtt.status")).read().split()

try:
    start([os.path.join(out, "bin", "mbserver"), "15502", os.path.join(run, "mbserver.count")], "mbserver.log")
    start(["mosquitto", "-c", os.path.join(here, "mosquitto.conf")], "mosquitto.log")
    time.sleep(0.5)
    start([os.path.join(out, "bin", "mqttcount"), "18850", "lab/#", "1", os.path.join(run, "mqtt.status"), os.path.join(run, "mqtt.timeline")], "mqttcount.log")
    link = relay()
    env = dict(os.environ, GATEWAY_BUFFER__PATH=os.path.join(run, "buffer.db"), GATEWAY_HTTP__URLS=f"http://127.0.0.1:{http}")
    gw = start(["dotnet", dll, "run", "--config", config], "gateway.log", env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if metrics().get("gateway_mqtt_connected", 0) >= 1:
                break
        except OSError:
            pass
        time.sleep(0.2)
    time.sleep(10)
    m0 = metrics(); t0 = time.monotonic()
    time.sleep(10)
    m1 = metrics(); t1 = time.monotonic()
    live_rate = (m1.get("gateway_samples_buffered_total", 0) - m0.get("gateway_samples_buffered_total", 0)) / (t1 - t0)

    stop(link)                       # the outage: the gateway's link is cut, the broker and subscriber stay up
    time.sleep(outage)
    before = metrics()
    connects_before = before.get("gateway_sink_connects_total", 0)
    open(os.path.join(run, "mqtt.status.mark"), "w").close()
    time.sleep(0.15)                 # mqttcount notes the mark on its next 100 ms tick
    link = relay(); restored = time.monotonic()
    backlog = before.get("gateway_buffer_samples", 0)
    reconnect = drain = None
    while time.monotonic() - restored < 600:
        m = metrics(); now = time.monotonic()
        if reconnect is None and m.get("gateway_sink_connects_total", 0) > connects_before:
            reconnect = now - restored
        if reconnect is not None and m.get("gateway_buffer_samples", 0) <= live_rate * 0.5 + 200:
            drain = now - restored
            break
        time.sleep(0.1)
    time.sleep(max(0.0, 30 - (time.monotonic() - restored)))
    hist_after = {}
    h = history()
    mark = h[3]
    first_live = h[2] - mark if h[2] > 0 and mark > 0 else None
    end = metrics()
    time.sleep(3)
    received_live = int(status()[1])
    h = history()
    lag = {}
    for line in open(os.path.join(run, "mqtt.timeline")):
        r = line.split()
        if float(r[0]) >= mark and int(r[2]) > 0:
            lag.setdefault("max", 0.0); lag["max"] = max(lag["max"], float(r[4]))
    summary = {
        "label": label, "outage_s": outage, "tags": tags,
        "live_rate": round(live_rate), "backlog_at_restore": int(backlog),
        "reconnect_s": round(reconnect, 2) if reconnect is not None else None,
        "first_live_s": round(first_live, 2) if first_live is not None else None,
        "drain_s": round(drain, 1) if drain else None,
        "drain_rate": round(backlog / drain) if drain else None,
        "live_lag_max_ms_after_restore": lag.get("max"),
        "delivered_live": received_live, "delivered_history": int(h[1]), "history_messages": int(h[0]),
        "buffered": int(end.get("gateway_samples_buffered_total", 0)),
        "dropped": int(end.get("gateway_buffer_dropped_samples_total", 0)),
        "gateway_rss_mb": round(int(open(f"/proc/{gw.pid}/status").read().split("VmRSS:")[1].split()[0]) / 1024, 1),
    }
    summary["missing"] = summary["buffered"] - summary["delivered_live"] - summary["delivered_history"]
    json.dump(summary, open(os.path.join(run, "summary.json"), "w"), indent=1)
    print(json.dumps(summary, indent=1))
finally:
    for p in reversed(procs):
        stop(p)
