#!/usr/bin/env python3
"""sample.py <outdir> <window_s> name=PID ...   (names: gateway, mosquitto mbserver mqttcount)
Takes a snapshot, samples RSS/CPU once per second for <window_s>, takes a second
snapshot, prints a JSON summary. Counters: <outdir>/mbserver.count (Modbus requests
served, server clock) and <outdir>/mqtt.status (subscriber count + broker $SYS
publish/messages/received). The system under test is "gateway" when that name is
given, else "nodered"; its keys in the summary carry that prefix.
With METRICS_URL set (the C# gateway's /metrics), its Prometheus counters are read
at both snapshots (gw_* keys) and every METRICS_EVERY seconds between them (default 10:
series.json gets the buffer backlog). Not every second: each scrape costs the gateway CPU
(ASP.NET request, and JIT of that path for its first ~30 calls), which would be counted
as the gateway's own work."""
import json, os, sys, time, urllib.request

HZ = os.sysconf("SC_CLK_TCK")
outdir, window = sys.argv[1], float(sys.argv[2])
pids = dict(a.split("=") for a in sys.argv[3:])
pids = {k: int(v) for k, v in pids.items()}
SUT = "gateway" if "gateway" in pids else "nodered"
METRICS_URL = os.environ.get("METRICS_URL")
METRICS_EVERY = max(1, int(os.environ.get("METRICS_EVERY", "10")))

def prom():
    """name -> value summed over label sets, from the gateway's /metrics (None if unreachable)"""
    if not METRICS_URL:
        return None
    try:
        text = urllib.request.urlopen(METRICS_URL, timeout=2).read().decode()
    except OSError:
        return None
    out = {}
    for line in text.splitlines():
        if not line or line[0] == "#":
            continue
        name, _, value = line.rpartition(" ")
        name = name.split("{", 1)[0]
        try:
            out[name] = out.get(name, 0.0) + float(value)
        except ValueError:
            pass
    return out

def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        s = f.read()
    fields = s[s.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])          # utime + stime (all threads)

def status_kb(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0

def sys_cpu():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v[:8]), idle

def read_fields(path):
    with open(path) as f:
        return f.read().split()

def hist():
    """cumulative lag histogram of live messages written by mqttcount: {upper_ms: count}"""
    try:
        return {float(a): int(b) for a, b in (l.split() for l in open(f"{outdir}/mqtt.status.hist"))}
    except OSError:
        return {}

def percentile(h, q):
    total = sum(h.values())
    if total == 0:
        return None
    seen = 0
    for upper in sorted(h):
        seen += h[upper]
        if seen >= q * total:
            return upper
    return max(h)

def snap():
    mb = read_fields(f"{outdir}/mbserver.count")
    mq = read_fields(f"{outdir}/mqtt.status")
    return {
        "mono": time.monotonic(),
        "cpu": {k: cpu_ticks(p) for k, p in pids.items()},
        "sys": sys_cpu(),
        "mb_t": float(mb[0]), "mb_req": int(mb[1]), "mb_conns": int(mb[3]),
        "sub_t": float(mq[0]), "sub_n": int(mq[1]),
        "sys_recv": int(mq[2]), "sys_recv_t": float(mq[3]), "sys_drop": int(mq[4]), "bad": int(mq[5]),
        "spb_metrics": int(mq[6]) if len(mq) > 6 else 0,
        "prom": prom(), "prom_mono": time.monotonic(), "hist": hist(),
    }

load0 = open("/proc/loadavg").read().split()[:3]
s0 = snap()
rss = {k: [] for k in pids}
series = []
prev = s0["cpu"][SUT]
backlog = []
t_end = s0["mono"] + window
while True:
    now = time.monotonic()
    if now >= t_end:
        break
    time.sleep(min(1.0, t_end - now))
    row = {"t": round(time.monotonic() - s0["mono"], 2)}
    for k, p in pids.items():
        r = status_kb(p, "VmRSS"); rss[k].append(r); row[f"{k}_rss_kb"] = r
    c = cpu_ticks(pids[SUT]); row[f"{SUT}_cpu_pct"] = (c - prev) / HZ * 100; prev = c
    if METRICS_URL and len(series) % METRICS_EVERY == METRICS_EVERY - 1:
        m = prom()
        if m:
            row["gw_buffer_samples"] = m.get("gateway_buffer_samples"); backlog.append(row["gw_buffer_samples"])
            row["gw_published_total"] = m.get("gateway_samples_published_total")
            row["gw_oldest_age_s"] = m.get("gateway_buffer_oldest_sample_age_seconds")
    series.append(row)
s1 = snap()

wall = s1["mono"] - s0["mono"]
mb_rate = (s1["mb_req"] - s0["mb_req"]) / (s1["mb_t"] - s0["mb_t"])
sub_rate = (s1["sub_n"] - s0["sub_n"]) / (s1["sub_t"] - s0["sub_t"])
broker_rate = (s1["sys_recv"] - s0["sys_recv"]) / (s1["sys_recv_t"] - s0["sys_recv_t"]) \
    if s1["sys_recv_t"] > s0["sys_recv_t"] else None
cpu_s = {k: (s1["cpu"][k] - s0["cpu"][k]) / HZ for k in pids}
tot = s1["sys"][0] - s0["sys"][0]; idle = s1["sys"][1] - s0["sys"][1]
samples_s = broker_rate if broker_rate is not None else sub_rate

# lag (arrival - payload timestamp) from the subscriber's per-second timeline, within the window
lag_avg = lag_max = None
try:
    rows = [l.split() for l in open(f"{outdir}/mqtt.timeline")]
    rows = [r for r in rows if s0["sub_t"] <= float(r[0]) <= s1["sub_t"] + 0.5 and int(r[2]) > 0]
    if rows:
        n = sum(int(r[2]) for r in rows)
        lag_avg = sum(float(r[3]) * int(r[2]) for r in rows) / n
        lag_max = max(float(r[4]) for r in rows)
except OSError:
    pass

if s1["spb_metrics"] > s0["spb_metrics"]:
    lag_avg = lag_max = None          # Sparkplug B payloads carry no JSON timestamp: no lag measured
h = {k: s1["hist"].get(k, 0) - s0["hist"].get(k, 0) for k in s1["hist"]}
h = {k: v for k, v in h.items() if v > 0}
nr = cpu_s[SUT]
summary = {
    "system_under_test": SUT,
    "window_s": round(wall, 2),
    "loadavg_start": load0,
    "loadavg_end": open("/proc/loadavg").read().split()[:3],
    "modbus_requests_per_s": round(mb_rate, 1),
    "modbus_registers_per_s": round(mb_rate * 100, 0),
    "broker_publish_received_per_s": round(broker_rate, 0) if broker_rate else None,
    "subscriber_msgs_per_s": round(sub_rate, 0),
    "samples_per_s": round(samples_s, 0),
    f"{SUT}_cpu_s": round(nr, 2),
    f"{SUT}_cpu_pct_of_one_core": round(nr / wall * 100, 1),
    f"{SUT}_cpu_s_per_1M_samples": round(nr / (samples_s * wall) * 1e6, 1) if samples_s else None,
    f"samples_per_{SUT}_cpu_s": round(samples_s * wall / nr, 0) if nr else None,
    f"{SUT}_rss_mb_start": round(rss[SUT][0] / 1024, 1),
    f"{SUT}_rss_mb_end": round(rss[SUT][-1] / 1024, 1),
    f"{SUT}_rss_mb_max_window": round(max(rss[SUT]) / 1024, 1),
    f"{SUT}_vmhwm_mb": round(status_kb(pids[SUT], "VmHWM") / 1024, 1),
    "mosquitto_cpu_pct": round(cpu_s["mosquitto"] / wall * 100, 1),
    "mosquitto_rss_mb_max": round(max(rss["mosquitto"]) / 1024, 1),
    "mbserver_cpu_pct": round(cpu_s["mbserver"] / wall * 100, 1),
    "mqttcount_cpu_pct": round(cpu_s["mqttcount"] / wall * 100, 1),
    "system_cpu_busy_pct_of_2_cores": round((tot - idle) / tot * 100, 1) if tot else None,
    "modbus_open_connections": s1["mb_conns"],
    "broker_dropped_delta": s1["sys_drop"] - s0["sys_drop"],
    "subscriber_bad_payloads": s1["bad"] - s0["bad"],
    "subscriber_spb_metrics_per_s": round((s1["spb_metrics"] - s0["spb_metrics"]) / (s1["sub_t"] - s0["sub_t"]), 0),
    "lag_ms_avg": round(lag_avg, 1) if lag_avg is not None else None,
    "lag_ms_max": round(lag_max, 1) if lag_max is not None else None,
    "lag_ms_p50": percentile(h, 0.50),
    "lag_ms_p99": percentile(h, 0.99),
}
p0, p1 = s0["prom"], s1["prom"]
if METRICS_URL and p0 and p1:
    dt = s1["prom_mono"] - s0["prom_mono"]
    d = lambda k: p1.get(k, 0.0) - p0.get(k, 0.0)
    pub = d("gateway_samples_published_total")
    summary.update({
        "gw_samples_published_delta": int(pub),
        "gw_samples_published_per_s": round(pub / dt, 0),
        "gw_cpu_s_per_1M_published": round(nr / pub * 1e6, 1) if pub else None,
        "gw_samples_read_per_s": round(d("gateway_driver_samples_read_total") / dt, 0),
        "gw_samples_filtered_per_s": round(d("gateway_samples_filtered_total") / dt, 0),
        "gw_samples_buffered_per_s": round(d("gateway_samples_buffered_total") / dt, 0),
        "gw_modbus_requests_per_s": round(d("gateway_modbus_requests_total") / dt, 1),
        "gw_modbus_failures_delta": int(d("gateway_modbus_failures_total")),
        "gw_driver_errors_delta": int(d("gateway_driver_errors_total")),
        "gw_buffer_dropped_delta": int(d("gateway_buffer_dropped_samples_total")),
        "gw_publish_failures_delta": int(d("gateway_publish_failures_total")),
        "gw_buffer_samples_start": int(p0.get("gateway_buffer_samples", 0)),
        "gw_buffer_samples_end": int(p1.get("gateway_buffer_samples", 0)),
        "gw_buffer_samples_max": int(max(backlog)) if backlog else None,
        "gw_buffer_bytes_end": int(p1.get("gateway_buffer_bytes", 0)),
        "gw_buffer_oldest_age_s_end": round(p1.get("gateway_buffer_oldest_sample_age_seconds", 0), 2),
        "gw_mqtt_connected_end": int(p1.get("gateway_mqtt_connected", 0)),
    })
with open(f"{outdir}/series.json", "w") as f:
    json.dump(series, f)
print(json.dumps(summary, indent=1))
