#!/usr/bin/env python3
"""scaleout.py <out dir> <gateway.dll | native gateway executable> [processes=20] [window_s=60] [warm_s=20]

Issue 11 §8: N gateway processes on this machine, each reading 1000 tags at 1 Hz from one mbserver (values
change every 100 ms, so every read is 1000 new samples) and publishing to one mosquitto. Reports, as JSON: the
rate each process delivered (its own gateway_samples_published_total over the window) against the 1000/s it
reads, the subscriber's total rate, and each process's CPU (% of one core, from /proc) and RSS.
Needs $out/bin/mbserver and $out/bin/mqttcount (bench.sh builds them)."""
import json, os, signal, socket, subprocess, sys, time, urllib.request

out, dll = sys.argv[1], sys.argv[2]
n = int(sys.argv[3]) if len(sys.argv) > 3 else 20
window = float(sys.argv[4]) if len(sys.argv) > 4 else 60.0
warm = float(sys.argv[5]) if len(sys.argv) > 5 else 20.0
here = os.path.dirname(os.path.abspath(__file__))
run = os.path.join(out, "results", f"scaleout-{n}")
os.makedirs(run, exist_ok=True)
hz = os.sysconf("SC_CLK_TCK")

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

config = os.path.join(run, "gateway.json")
subprocess.run([sys.executable, os.path.join(here, "gen-config.py"), "10", "1000", "shared", config], check=True, capture_output=True)
procs = []

def start(args, log, **kw):
    p = subprocess.Popen(args, stdout=open(os.path.join(run, log), "w"), stderr=subprocess.STDOUT, start_new_session=True, **kw)
    procs.append(p)
    return p

def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / hz

def rss(pid):
    return int(open(f"/proc/{pid}/status").read().split("VmRSS:")[1].split()[0]) / 1024

def published(port):
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    return sum(float(l.rpartition(" ")[2]) for l in text.splitlines() if l.startswith("gateway_samples_published_total"))

try:
    start([os.path.join(out, "bin", "mbserver"), "15502", os.path.join(run, "mbserver.count")], "mbserver.log")
    start(["mosquitto", "-c", os.path.join(here, "mosquitto.conf")], "mosquitto.log")
    time.sleep(0.5)
    start([os.path.join(out, "bin", "mqttcount"), "18850", "lab/#", "1", os.path.join(run, "mqtt.status")], "mqttcount.log")
    gateways = []
    for i in range(n):
        port = free_port()
        env = dict(os.environ, GATEWAY_GATEWAY__ID=f"gw{i}", GATEWAY_GATEWAY__LINE=f"line{i}", GATEWAY_MQTT__CLIENTID=f"gw{i}",
                   GATEWAY_BUFFER__PATH=os.path.join(run, f"buffer{i}.db"), GATEWAY_HTTP__URLS=f"http://127.0.0.1:{port}")
        gateways.append((start((["dotnet", dll] if dll.endswith(".dll") else [dll]) + ["run", "--config", config], f"gateway{i}.log", env=env), port))
        time.sleep(0.3)
    time.sleep(warm)
    c0 = [cpu(p.pid) for p, _ in gateways]; p0 = [published(port) for _, port in gateways]
    s0 = open(os.path.join(run, "mqtt.status")).read().split(); t0 = time.monotonic()
    time.sleep(window)
    c1 = [cpu(p.pid) for p, _ in gateways]; p1 = [published(port) for _, port in gateways]
    s1 = open(os.path.join(run, "mqtt.status")).read().split(); t1 = time.monotonic()
    rows = [{"process": i, "published_per_s": round((p1[i] - p0[i]) / (t1 - t0)), "cpu_pct_of_one_core": round((c1[i] - c0[i]) / (t1 - t0) * 100, 2),
             "rss_mb": round(rss(p.pid), 1)} for i, (p, _) in enumerate(gateways)]
    summary = {
        "processes": n, "window_s": round(t1 - t0, 1), "loadavg_end": open("/proc/loadavg").read().split()[:3],
        "subscriber_msgs_per_s": round((int(s1[1]) - int(s0[1])) / (float(s1[0]) - float(s0[0]))),
        "expected_per_s": 1000 * n,
        "published_per_s_min": min(r["published_per_s"] for r in rows),
        "cpu_pct_mean": round(sum(r["cpu_pct_of_one_core"] for r in rows) / n, 2),
        "cpu_pct_max": max(r["cpu_pct_of_one_core"] for r in rows),
        "rss_mb_mean": round(sum(r["rss_mb"] for r in rows) / n, 1),
        "rss_mb_max": max(r["rss_mb"] for r in rows),
        "per_process": rows,
    }
    json.dump(summary, open(os.path.join(run, "summary.json"), "w"), indent=1)
    print(json.dumps({k: v for k, v in summary.items() if k != "per_process"}, indent=1))
finally:
    for p in reversed(procs):
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    for p in procs:
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
