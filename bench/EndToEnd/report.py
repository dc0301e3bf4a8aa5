#!/usr/bin/env python3
"""report.py <results dir>: the candidate against the baseline, per scenario (medians over repetitions).

A sample is one tag reading: for UNS one message; for Sparkplug B one metric inside a DDATA (counted by the
subscriber). CPU-s per 1M samples = the gateway's utime+stime over the window / samples delivered to the
subscriber in the window. Ratios are candidate / baseline (lower is better for CPU, RSS and lag)."""
import json, os, re, statistics, sys

root = sys.argv[1]
runs = {}
for name in sorted(os.listdir(root)):
    m = re.match(r"(.+)-(candidate|baseline)-r(\d+)$", name)
    path = os.path.join(root, name, "summary.json")
    if not m or not os.path.exists(path):
        continue
    try:
        s = json.load(open(path))
    except ValueError:
        continue
    spb = m.group(1).startswith("spb-")
    samples = s.get("subscriber_spb_metrics_per_s") if spb else s.get("samples_per_s")
    cpu = s.get("gateway_cpu_s")
    window = s.get("window_s") or 1
    row = {
        "samples_s": samples,
        "cpu_per_1m": round(cpu / (samples * window) * 1e6, 1) if samples and cpu else None,
        "cpu_pct": s.get("gateway_cpu_pct_of_one_core"),
        "rss_end": s.get("gateway_rss_mb_end"),
        "hwm": s.get("gateway_vmhwm_mb"),
        "lag_p50": s.get("lag_ms_p50"),
        "lag_p99": s.get("lag_ms_p99"),
        "read_s": s.get("gw_samples_read_per_s"),
        "backlog_end": s.get("gw_buffer_samples_end"),
    }
    runs.setdefault(m.group(1), {}).setdefault(m.group(2), []).append(row)

def med(rows, key):
    values = [r[key] for r in rows if r.get(key) is not None]
    return statistics.median(values) if values else None

def fmt(v):
    if v is None:
        return "-"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.1f}"

cols = [("samples_s", "samples/s"), ("cpu_per_1m", "CPU-s / 1M"), ("cpu_pct", "CPU % of a core"), ("rss_end", "RSS MB"),
        ("hwm", "VmHWM MB"), ("lag_p50", "lag p50 ms"), ("lag_p99", "lag p99 ms"), ("read_s", "read/s"), ("backlog_end", "backlog at end")]
print("| scenario | figure | baseline | candidate | candidate / baseline |")
print("|---|---|---|---|---|")
for scenario, by in runs.items():
    for key, label in cols:
        b, c = med(by.get("baseline", []), key), med(by.get("candidate", []), key)
        ratio = f"{c / b:.2f}" if b and c is not None and b != 0 else "-"
        print(f"| {scenario} | {label} | {fmt(b)} | {fmt(c)} | {ratio} |")
