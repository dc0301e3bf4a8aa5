// Trends, line view and sparklines, drawn in plain SVG from /api/oee/history and the live stream (after app.js).
// The line's OEE is the bottleneck's: the machine with the lowest OEE this shift (docs/dashboard.md).
"use strict";

Object.assign(I18N.en, {
  trends: "Trends", line: "Line", lineOee: "Line OEE this shift", lineRule: "Rule: the line's OEE is its bottleneck's, the machine with the lowest OEE this shift: {m}.",
  lineNone: "No machine has an OEE this shift yet.", perHour: "Per hour, this shift", perShift: "Per shift, last 7 days", noHistory: "No history yet",
  sparkTitle: "Last 5 minutes", trend: "Last 5 min", report: "Coaching report",
});
Object.assign(I18N.fr, {
  trends: "Tendances", line: "Ligne", lineOee: "TRS de la ligne sur l'équipe", lineRule: "Règle : le TRS de la ligne est celui de son goulot, la machine au TRS le plus bas sur l'équipe : {m}.",
  lineNone: "Aucune machine n'a encore de TRS sur cette équipe.", perHour: "Par heure, équipe en cours", perShift: "Par équipe, 7 derniers jours", noHistory: "Pas encore d'historique",
  sparkTitle: "5 dernières minutes", trend: "5 dernières min", report: "Rapport d'accompagnement",
});

const trends = { hours: null, shifts: null, fetchedAt: 0, pending: false };
const SERIES = [["oee", "s-oee"], ["availability", "s-a"], ["performance", "s-p"], ["quality", "s-q"]];

// ---------- line view ----------
function renderLine(report) {
  const box = $("line");
  if (!box) return;
  const withOee = report.machines.filter((m) => m.currentShift && m.currentShift.oee != null);
  box.hidden = report.machines.length === 0;
  const value = $("line-oee");
  const rule = $("line-rule");
  const bars = $("line-machines");
  if (withOee.length === 0) {
    value.textContent = "—";
    rule.textContent = t("lineNone");
    bars.replaceChildren();
    return;
  }
  const bottleneck = withOee.reduce((a, b) => (b.currentShift.oee < a.currentShift.oee ? b : a));
  value.textContent = fmtPct(bottleneck.currentShift.oee);
  value.dataset.machine = bottleneck.name;
  rule.textContent = t("lineRule", { m: bottleneck.name });
  bars.replaceChildren(...report.machines.map((m) => {
    const li = el("li");
    li.dataset.machine = m.name;
    const oee = m.currentShift ? m.currentShift.oee : null;
    if (m.name === bottleneck.name) li.className = "bottleneck";
    const bar = el("span", "bar");
    const fill = el("span");
    fill.style.width = oee == null ? "0" : (Math.min(1, oee) * 100).toFixed(1) + "%";
    bar.append(fill);
    li.append(el("span", "name", m.name), bar, el("span", "pct", fmtPct(oee)));
    return li;
  }));
}

// ---------- trend charts ----------
function fmtStamp(iso, withDay) {
  const options = { hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
  if (withDay) { options.weekday = "short"; options.day = "2-digit"; }
  const zone = plantZone();
  if (zone) options.timeZone = zone;
  return new Date(iso).toLocaleString(locale(), options);
}

function drawChart(target, periods, withDay) {
  const W = 600, H = 150, L = 34, R = 8, T = 8, B = 22;
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", class: "chart" });
  for (const g of [0, 0.5, 1]) {
    const y = T + (1 - g) * (H - T - B);
    root.append(svg("line", { x1: L, x2: W - R, y1: y, y2: y, class: "grid" }));
    const label = svg("text", { x: L - 4, y: y + 4, "text-anchor": "end", class: "axis" });
    label.textContent = Math.round(g * 100) + "%";
    root.append(label);
  }
  if (periods.length === 0) {
    const none = svg("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "axis" });
    none.textContent = t("noHistory");
    root.append(none);
    target.replaceChildren(root);
    return;
  }
  const step = (W - L - R) / periods.length;
  const px = (i) => L + step * (i + 0.5);
  const py = (v) => T + (1 - Math.min(1, Math.max(0, v))) * (H - T - B);
  for (const [key, cls] of SERIES) {
    const points = periods.map((p, i) => (p[key] == null ? null : [px(i), py(p[key])])).filter(Boolean);
    if (points.length > 1) root.append(svg("polyline", { points: points.map((q) => q.map((n) => n.toFixed(1)).join(",")).join(" "), class: "series " + cls }));
    periods.forEach((p, i) => {
      if (p[key] == null) return;
      const dot = svg("circle", { cx: px(i).toFixed(1), cy: py(p[key]).toFixed(1), r: key === "oee" ? 4 : 2.5, class: "dot " + cls });
      const title = svg("title");
      title.textContent = (key === "oee" ? OEE_NAME[view.lang] : t(key === "quality" ? "qualityKpi" : key)) + " " + fmtPct(p[key]) + " — " + (p.machine || "") + " " + fmtStamp(p.start, withDay) + "–" + fmtStamp(p.end, false) + (p.complete ? "" : " …");
      dot.append(title);
      root.append(dot);
    });
  }
  const every = Math.max(1, Math.ceil(periods.length / 8));
  periods.forEach((p, i) => {
    if (i % every) return;
    const label = svg("text", { x: px(i).toFixed(1), y: H - 6, "text-anchor": "middle", class: "axis" });
    label.textContent = withDay ? fmtStamp(p.start, true) : fmtStamp(p.start, false);
    root.append(label);
  });
  target.replaceChildren(root);
}

function renderTrends() {
  const box = $("trends");
  if (!box || !view.oee) return;
  const names = view.oee.machines.map((m) => m.name);
  box.hidden = names.length === 0;
  const list = $("trend-machines");
  for (const name of names) {
    let card = list.querySelector(`[data-machine="${CSS.escape(name)}"]`);
    if (!card) {
      card = el("article", "card trend");
      card.dataset.machine = name;
      card.append(el("h3", null, name), el("h4", "per-hour"), el("div", "chart-hour"), el("h4", "per-shift"), el("div", "chart-shift"), el("ul", "keys"));
      list.append(card);
    }
    card.querySelector(".per-hour").textContent = t("perHour");
    card.querySelector(".per-shift").textContent = t("perShift");
    const keys = card.querySelector(".keys");
    keys.replaceChildren(...SERIES.map(([key, cls]) => {
      const li = el("li");
      li.append(el("i", cls), document.createTextNode(key === "oee" ? OEE_NAME[view.lang] : t(key === "quality" ? "qualityKpi" : key)));
      return li;
    }));
    if (trends.hours) drawChart(card.querySelector(".chart-hour"), trends.hours.filter((p) => p.machine === name), false);
    if (trends.shifts) drawChart(card.querySelector(".chart-shift"), trends.shifts.filter((p) => p.machine === name), true);
  }
}

// The history is fetched at most every 30 s (an hour's row changes little faster than that), every 3 s while empty.
function fetchTrends(report) {
  const now = Date.now();
  const empty = !trends.hours || trends.hours.length === 0;
  if (trends.pending || now - trends.fetchedAt < (empty ? 3e3 : 30e3)) return;
  trends.pending = true;
  const shift = report.machines.map((m) => m.currentShift).find(Boolean);
  // From the start of the hour the shift began in, so that its first hour is there; between shifts, 8 hours.
  const shiftStart = shift ? new Date(shift.start).getTime() - 3599e3 : now - 8 * 3600e3;
  const to = new Date(new Date(report.generatedAt).getTime() + 60e3).toISOString();
  const ask = (by, from) => fetch(`/api/oee/history?by=${by}&from=${encodeURIComponent(new Date(from).toISOString())}&to=${encodeURIComponent(to)}`, { credentials: "same-origin" })
    .then((r) => (r.ok ? r.json() : null));
  Promise.all([ask("hour", shiftStart), ask("shift", now - 7 * 86400e3)]).then(([hours, shifts]) => {
    if (hours) trends.hours = hours.periods.filter((p) => !shift || new Date(p.end) > new Date(shift.start));
    if (shifts) trends.shifts = shifts.periods;
    trends.fetchedAt = Date.now();
    renderTrends();
  }, () => {}).finally(() => { trends.pending = false; });
}

// ---------- sparklines: the last 5 minutes of each numeric tag, kept in the browser ----------
const SPARK_WINDOW = 5 * 60e3;
const sparks = new Map(); // tag -> [[ms, value], ...]

function onSparkTags(frame) {
  const at = new Date(frame.generatedAt).getTime();
  for (const s of frame.tags) {
    const v = typeof s.value === "number" ? s.value : typeof s.value === "boolean" ? Number(s.value) : null;
    let ring = sparks.get(s.tag);
    if (!ring) { ring = []; sparks.set(s.tag, ring); }
    if (v != null && s.quality !== "Bad") ring.push([new Date(s.timestamp).getTime() || at, v]);
    while (ring.length && ring[0][0] < at - SPARK_WINDOW) ring.shift();
    if (ring.length > 600) ring.splice(0, ring.length - 600);
    const entry = view.tags.get(s.tag);
    if (entry) drawSpark(entry.row, ring, at);
  }
}

function drawSpark(row, ring, at) {
  let cell = row.querySelector("td.spark");
  if (!cell) { cell = el("td", "spark"); row.append(cell); }
  if (ring.length === 0) { cell.replaceChildren(); return; }
  const W = 120, H = 24;
  let min = Infinity, max = -Infinity;
  for (const [, v] of ring) { if (v < min) min = v; if (v > max) max = v; }
  const span = max - min || 1;
  const x = (ms) => ((ms - (at - SPARK_WINDOW)) / SPARK_WINDOW) * W;
  const y = (v) => H - 2 - ((v - min) / span) * (H - 4);
  // A step line: a value holds until the next one (the gateway sends changes only), drawn up to now.
  const points = [];
  ring.forEach(([ms, v], i) => {
    if (i > 0) points.push([x(ms), y(ring[i - 1][1])]);
    points.push([x(ms), y(v)]);
  });
  points.push([W, y(ring[ring.length - 1][1])]);
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "sparkline", role: "img", preserveAspectRatio: "none" });
  root.append(svg("polyline", { points: points.map(([a, b]) => Math.max(0, a).toFixed(1) + "," + b.toFixed(1)).join(" "), "vector-effect": "non-scaling-stroke" }));
  const title = svg("title");
  title.textContent = t("sparkTitle") + ": " + fmtNumber(min) + " … " + fmtNumber(max);
  root.append(title);
  cell.replaceChildren(root);
}

hooks.oee.push((report) => { renderLine(report); renderTrends(); fetchTrends(report); });
hooks.tags.push(onSparkTags);
hooks.lang.push(() => { if (view.oee) { renderLine(view.oee); renderTrends(); } });
// app.js translated the page before this file added its words: translate again, now with them.
applyLanguage();
