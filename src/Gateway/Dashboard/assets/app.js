// Gateway dashboard: live over server-sent events (/api/stream), read-only, no dependency.
// Events: "tags" ({full, generatedAt, tags:[{tag, machine, path, value, quality, statusCode, timestamp, unit}]}),
// "status" (the /api/status document) and "oee" (the /api/oee document).
"use strict";

const I18N = {
  en: {
    title: "Line dashboard", connecting: "Connecting…", live: "Live", lost: "Reconnecting…", updated: "Updated",
    logout: "Log out", machines: "Machines", health: "Gateway health", liveTags: "Live tags",
    noOee: "No machine has an OEE: add an oee section to the configuration.", noTags: "No tag matches the filter.",
    broker: "Broker", published: "Published", failures: "Failures", buffer: "Store-and-forward buffer",
    samples: "Samples", size: "Size", oldest: "Oldest", dropped: "Dropped", drivers: "Drivers",
    machine: "Machine", quality: "Quality", search: "Search", allMachines: "All machines", allQualities: "All qualities",
    searchPlaceholder: "Filter by tag…", tag: "Tag", value: "Value", time: "Time",
    readOnly: "Read-only view: nothing on this page writes to the machines.",
    connected: "Connected", disconnected: "Disconnected", embedded: "embedded",
    availability: "Availability", performance: "Performance", qualityKpi: "Quality",
    total: "Total", good: "Good", reject: "Rejects", lastHour: "Last hour", previousShift: "Previous shift", since: "since",
    overHint: "Above 100 %: the machine beats its ideal cycle time. Check idealCycleMs (too long?).",
    shift: "Shift", noShift: "No shift now", topReasons: "Top downtime reasons", noDowntime: "No downtime this shift",
    tagsCount: "{n} tags", tagsFiltered: "{shown} of {n} tags", readCount: "{tags} tags · {samples} samples read",
    "s.running": "Running", "s.idle": "Idle", "s.down": "Down", "s.setup": "Setup", "s.planned-stop": "Planned stop", "s.unknown": "Unknown",
    "q.Good": "Good", "q.Uncertain": "Uncertain", "q.Bad": "Bad",
    "d.Starting": "Starting", "d.Connected": "Connected", "d.Degraded": "Degraded", "d.Disconnected": "Disconnected", "d.Stopped": "Stopped",
    unitSeconds: "s", unitMinutes: "min", unitHours: "h", times: "×", break: "Break",
    plantTime: "Plant time: every time on this page is in the plant's time zone",
    fillRate: "Fill", drainRate: "Drain", toEmpty: "Empty in", perSecond: "/s", waiting: "{n} samples waiting", oldestWaiting: "oldest {age}",
    emptyBuffer: "Empty: every sample delivered", notDraining: "not draining",
    commission: "Commissioning",
    zoomHour: "Zoom: last hour", zoomShift: "Whole shift", plannedShort: "planned",
  },
  fr: {
    title: "Tableau de bord de la ligne", connecting: "Connexion…", live: "En direct", lost: "Reconnexion…", updated: "Mis à jour",
    logout: "Se déconnecter", machines: "Machines", health: "État de la passerelle", liveTags: "Variables en direct",
    noOee: "Aucune machine n'a de TRS : ajoutez une section oee à la configuration.", noTags: "Aucune variable ne correspond au filtre.",
    broker: "Broker", published: "Publiés", failures: "Échecs", buffer: "Tampon de stockage",
    samples: "Échantillons", size: "Taille", oldest: "Plus ancien", dropped: "Perdus", drivers: "Pilotes",
    machine: "Machine", quality: "Qualité", search: "Recherche", allMachines: "Toutes les machines", allQualities: "Toutes les qualités",
    searchPlaceholder: "Filtrer par variable…", tag: "Variable", value: "Valeur", time: "Heure",
    readOnly: "Vue en lecture seule : rien sur cette page n'écrit vers les machines.",
    connected: "Connecté", disconnected: "Déconnecté", embedded: "intégré",
    availability: "Disponibilité", performance: "Performance", qualityKpi: "Qualité",
    total: "Total", good: "Bonnes", reject: "Rebuts", lastHour: "Dernière heure", previousShift: "Équipe précédente", since: "depuis",
    overHint: "Au-dessus de 100 % : la machine bat son temps de cycle idéal. Vérifiez idealCycleMs (trop long ?).",
    shift: "Équipe", noShift: "Pas d'équipe en cours", topReasons: "Principales causes d'arrêt", noDowntime: "Aucun arrêt sur cette équipe",
    tagsCount: "{n} variables", tagsFiltered: "{shown} sur {n} variables", readCount: "{tags} variables · {samples} échantillons lus",
    "s.running": "En production", "s.idle": "En attente", "s.down": "En panne", "s.setup": "Réglage", "s.planned-stop": "Arrêt planifié", "s.unknown": "Inconnu",
    "q.Good": "Bonne", "q.Uncertain": "Incertaine", "q.Bad": "Mauvaise",
    "d.Starting": "Démarrage", "d.Connected": "Connecté", "d.Degraded": "Dégradé", "d.Disconnected": "Déconnecté", "d.Stopped": "Arrêté",
    unitSeconds: "s", unitMinutes: "min", unitHours: "h", times: "×", break: "Pause",
    plantTime: "Heure de l'usine : toutes les heures de cette page sont dans le fuseau de l'usine",
    fillRate: "Remplissage", drainRate: "Vidage", toEmpty: "Vide dans", perSecond: "/s", waiting: "{n} échantillons en attente", oldestWaiting: "le plus ancien : {age}",
    emptyBuffer: "Vide : tout est livré", notDraining: "ne se vide pas",
    commission: "Mise en service",
    zoomHour: "Zoom : dernière heure", zoomShift: "Toute l'équipe", plannedShort: "planifié",
  },
};
const KPI_LETTERS = { en: ["A", "P", "Q"], fr: ["D", "P", "Q"] };
const OEE_NAME = { en: "OEE", fr: "TRS" };
const STATES = ["running", "idle", "down", "setup", "planned-stop", "unknown"];
const SVG = "http://www.w3.org/2000/svg";

const view = {
  lang: pickLanguage(),
  tags: new Map(), // tag key -> {sample, row}
  machines: new Set(),
  status: null,
  oee: null,
  lastUpdate: null,
  zoom: new Map(), // machine -> true while its timeline shows the last hour only
};
// trends.js (trends, line view, sparklines) listens here: called after each oee event, tags frame, language change.
const hooks = { oee: [], tags: [], lang: [] };

function pickLanguage() {
  const stored = safeStorage("get");
  if (stored === "fr" || stored === "en") return stored;
  const langs = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || "en"];
  return String(langs[0]).toLowerCase().startsWith("fr") ? "fr" : "en";
}

function safeStorage(op, value) {
  try {
    if (op === "get") return localStorage.getItem("gateway.lang");
    localStorage.setItem("gateway.lang", value);
  } catch { /* private mode: the choice lasts for this page only */ }
  return null;
}

function t(key, args) {
  let text = (I18N[view.lang] && I18N[view.lang][key]) ?? I18N.en[key] ?? key;
  if (args) for (const [k, v] of Object.entries(args)) text = text.replace("{" + k + "}", v);
  return text;
}

const $ = (id) => document.getElementById(id);
function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}
function svg(tag, attrs) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  return e;
}

// ---------- formatting ----------
function locale() { return view.lang === "fr" ? "fr-FR" : "en-GB"; }
function fmtInt(n) { return n == null ? "—" : new Intl.NumberFormat(locale()).format(n); }
function fmtNumber(v) {
  if (typeof v !== "number") return String(v);
  if (Number.isInteger(v)) return new Intl.NumberFormat(locale()).format(v);
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: Math.abs(v) >= 100 ? 1 : 2, minimumFractionDigits: 0 }).format(v);
}
function fmtPct(r) { return r == null ? "—" : new Intl.NumberFormat(locale(), { maximumFractionDigits: 1, minimumFractionDigits: 1 }).format(r * 100) + " %"; }
// Every time is shown on the plant's clock (the zone /api/oee and /api/status carry), never the browser's:
// a kiosk left on UTC and a consultant abroad see the shift as the plant plans it.
function plantZone() {
  const z = view.timeZone;
  if (!z) return undefined;
  if (view.zoneOk === z) return z;
  try { new Intl.DateTimeFormat("en", { timeZone: z }); view.zoneOk = z; return z; } catch { /* unknown to this browser */ }
  // Fall back to the fixed offset now: Etc/GMT-1 is UTC+01:00 (the sign is inverted in the Etc zones).
  const m = /^([+-])(\d{2}):00$/.exec(view.utcOffset || "");
  return m ? "Etc/GMT" + (m[1] === "+" ? "-" : "+") + Number(m[2]) : undefined;
}
function fmtTime(iso, seconds = true) {
  if (!iso) return "—";
  const d = new Date(iso);
  const options = seconds ? { hour: "2-digit", minute: "2-digit", second: "2-digit" } : { hour: "2-digit", minute: "2-digit" };
  options.hourCycle = "h23";
  const zone = plantZone();
  if (zone) options.timeZone = zone;
  return d.toLocaleTimeString(locale(), options);
}
function zoneLabel() { return view.timeZone ? view.timeZone + (view.utcOffset ? " (UTC" + view.utcOffset + ")" : "") : ""; }
function setZone(doc) {
  if (!doc || !doc.timeZone) return;
  const changed = view.timeZone !== doc.timeZone || view.utcOffset !== doc.utcOffset;
  view.timeZone = doc.timeZone;
  view.utcOffset = doc.utcOffset;
  const z = $("zone");
  if (z) { z.textContent = zoneLabel(); z.title = t("plantTime"); }
  if (changed && view.lastUpdate) $("updated").textContent = fmtTime(view.lastUpdate);
}
function fmtDuration(s) {
  if (s == null || !isFinite(s)) return "—";
  s = Math.max(0, Math.round(s));
  if (s < 60) return s + " " + t("unitSeconds");
  if (s < 3600) return Math.floor(s / 60) + " " + t("unitMinutes") + " " + String(s % 60).padStart(2, "0") + " " + t("unitSeconds");
  return Math.floor(s / 3600) + " " + t("unitHours") + " " + String(Math.floor((s % 3600) / 60)).padStart(2, "0") + " " + t("unitMinutes");
}
function fmtBytes(b) {
  if (b == null) return "—";
  const units = view.lang === "fr" ? ["o", "Kio", "Mio", "Gio"] : ["B", "KiB", "MiB", "GiB"];
  let i = 0;
  while (b >= 1024 && i < units.length - 1) { b /= 1024; i++; }
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: i ? 1 : 0 }).format(b) + " " + units[i];
}
function fmtValue(v) {
  if (v === null || v === undefined || v === "") return "—";
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "number") return fmtNumber(v);
  return String(v);
}
function level(r) { return r == null ? "none" : r >= 0.85 ? "good" : r >= 0.6 ? "fair" : "poor"; }

// ---------- language ----------
function applyLanguage() {
  document.documentElement.lang = view.lang;
  document.title = t("title");
  for (const e of document.querySelectorAll("[data-i18n]")) e.textContent = t(e.dataset.i18n);
  for (const e of document.querySelectorAll("[data-i18n-placeholder]")) e.placeholder = t(e.dataset.i18nPlaceholder);
  for (const b of document.querySelectorAll(".lang button")) b.setAttribute("aria-pressed", String(b.dataset.lang === view.lang));
  renderLegend();
  setConnection(view.connection || "wait");
  if (view.status) renderStatus(view.status);
  if (view.oee) renderOee(view.oee);
  for (const entry of view.tags.values()) fillRow(entry.row, entry.sample);
  if (view.lastUpdate) $("updated").textContent = fmtTime(view.lastUpdate);
  updateTagCount();
  for (const f of hooks.lang) f();
}

function renderLegend() {
  const ul = $("legend");
  ul.replaceChildren(...STATES.map((s) => {
    const li = el("li");
    li.append(el("i", "seg-" + s), document.createTextNode(t("s." + s)));
    return li;
  }));
  const brk = el("li");
  brk.append(el("i", "brk"), document.createTextNode(t("break")));
  ul.append(brk);
}

// ---------- connection ----------
function setConnection(state) {
  view.connection = state;
  const c = $("conn");
  c.className = "conn " + state;
  $("conn-text").textContent = t(state === "live" ? "live" : state === "lost" ? "lost" : "connecting");
}

let source = null;
function connect() {
  source = new EventSource("/api/stream");
  source.addEventListener("open", () => setConnection("live"));
  source.addEventListener("tags", (e) => onTags(JSON.parse(e.data)));
  source.addEventListener("status", (e) => { view.status = JSON.parse(e.data); setZone(view.status); renderStatus(view.status); });
  source.addEventListener("oee", (e) => { view.oee = JSON.parse(e.data); setZone(view.oee); renderOee(view.oee); for (const f of hooks.oee) f(view.oee); });
  source.addEventListener("error", () => {
    setConnection("lost");
    if (source.readyState === EventSource.CLOSED) {
      // The browser gave up (a 401 after the session expired, or a 503): ask why, then retry or log in.
      fetch("/api/session", { credentials: "same-origin" }).then((r) => {
        if (r.status === 401) location.href = "/login?next=" + encodeURIComponent(location.pathname);
        else setTimeout(connect, 3000);
      }, () => setTimeout(connect, 3000));
    }
  });
}

// ---------- live tags ----------
function onTags(frame) {
  if (frame.full) {
    for (const { row } of view.tags.values()) row.remove();
    view.tags.clear();
  }
  const fresh = [];
  for (const s of frame.tags) {
    const entry = view.tags.get(s.tag);
    if (entry) {
      const changed = entry.sample.value !== s.value || entry.sample.quality !== s.quality;
      entry.sample = s;
      fillRow(entry.row, s);
      if (changed && !frame.full) {
        entry.row.classList.remove("flash");
        void entry.row.offsetWidth; // restart the animation
        entry.row.classList.add("flash");
      }
    } else {
      const row = makeRow(s);
      view.tags.set(s.tag, { sample: s, row });
      fresh.push(s.tag);
      if (!view.machines.has(s.machine)) addMachineOption(s.machine);
    }
  }
  if (fresh.length) {
    // Keep the table sorted by tag: rebuild the order once per frame that brought new tags.
    const body = $("tag-rows");
    const keys = [...view.tags.keys()].sort();
    const fragment = document.createDocumentFragment();
    for (const k of keys) fragment.append(view.tags.get(k).row);
    body.append(fragment);
  }
  view.lastUpdate = frame.generatedAt;
  $("updated").textContent = fmtTime(frame.generatedAt);
  applyFilter(fresh.length ? null : frame.tags.map((s) => s.tag));
  for (const f of hooks.tags) f(frame);
}

function makeRow(s) {
  const row = el("tr");
  row.dataset.tag = s.tag;
  row.dataset.machine = s.machine;
  const tag = el("td", "tag");
  tag.append(el("span", "tag-machine", s.machine + "/"), el("span", "path", s.path));
  const value = el("td", "value num");
  const quality = el("td", "q");
  const time = el("td", "time");
  row.append(tag, value, quality, time);
  fillRow(row, s);
  return row;
}

function fillRow(row, s) {
  const [, value, quality, time] = row.children;
  value.replaceChildren(document.createTextNode(fmtValue(s.value)));
  // "1" is the unit of a ratio: it says nothing on a screen.
  if (s.unit && s.unit !== "1" && s.value !== null && typeof s.value === "number") value.append(el("span", "unit", s.unit));
  let badge = quality.firstChild;
  if (!badge) { badge = el("span"); quality.append(badge); }
  badge.className = "quality q-" + s.quality;
  badge.textContent = t("q." + s.quality);
  if (s.statusCode) badge.title = "0x" + (s.statusCode >>> 0).toString(16).toUpperCase().padStart(8, "0");
  else badge.removeAttribute("title");
  row.className = "row-" + s.quality + (row.classList.contains("hidden") ? " hidden" : "");
  row.dataset.quality = s.quality;
  time.textContent = fmtTime(s.timestamp);
}

function addMachineOption(machine) {
  view.machines.add(machine);
  const select = $("f-machine");
  const options = [...select.options].slice(1).map((o) => o.value).concat(machine).sort();
  select.replaceChildren(select.options[0], ...options.map((m) => { const o = el("option", null, m); o.value = m; return o; }));
  select.value = select.dataset.value || "";
}

function matches(sample) {
  const machine = $("f-machine").value;
  const quality = $("f-quality").value;
  const text = $("f-text").value.trim().toLowerCase();
  return (!machine || sample.machine === machine)
    && (!quality || sample.quality === quality)
    && (!text || sample.tag.toLowerCase().includes(text) || fmtValue(sample.value).toLowerCase().includes(text));
}

function applyFilter(onlyKeys) {
  const keys = onlyKeys || view.tags.keys();
  for (const k of keys) {
    const entry = view.tags.get(k);
    if (entry) entry.row.classList.toggle("hidden", !matches(entry.sample));
  }
  updateTagCount();
}

function updateTagCount() {
  let shown = 0;
  for (const { row } of view.tags.values()) if (!row.classList.contains("hidden")) shown++;
  const n = view.tags.size;
  $("tag-count").textContent = shown === n ? t("tagsCount", { n: fmtInt(n) }) : t("tagsFiltered", { shown: fmtInt(shown), n: fmtInt(n) });
  $("no-tags").hidden = shown > 0 || n === 0;
}

// ---------- health ----------
function renderStatus(st) {
  const g = st.gateway || {};
  $("place").textContent = [g.enterprise, g.site, g.area, g.line].filter(Boolean).join(" › ") + (g.id ? "  ·  " + g.id : "");
  const mqtt = st.mqtt || {};
  const ms = $("mqtt-state");
  ms.textContent = t(mqtt.connected ? "connected" : "disconnected");
  ms.className = "badge " + (mqtt.connected ? "ok" : "err");
  $("mqtt-broker").textContent = (mqtt.broker === "embedded" ? t("embedded") : mqtt.broker) + ":" + mqtt.port;
  $("mqtt-published").textContent = fmtInt(mqtt.published);
  $("mqtt-failures").textContent = fmtInt(mqtt.failures);

  const b = st.buffer || {};
  const fill = Math.min(1, Math.max(0, b.fill || 0));
  const bar = $("buffer-bar");
  bar.style.width = (fill * 100).toFixed(2) + "%";
  bar.className = "fill-bar" + (fill >= 0.9 ? " err" : fill >= 0.6 ? " warn" : "");
  $("buffer-meter").setAttribute("aria-valuenow", (fill * 100).toFixed(1));
  $("buffer-fill").textContent = fmtPct(fill) + " · " + fmtBytes(b.bytes) + " / " + fmtBytes(b.maxBytes);
  $("buffer-samples").textContent = fmtInt(b.samples);
  $("buffer-bytes").textContent = fmtBytes(b.bytes);
  $("buffer-oldest").textContent = b.samples ? fmtDuration(b.oldestSampleAgeSeconds) : "—";
  $("buffer-dropped").textContent = fmtInt(b.dropped);
  // What a room watches during an outage: the backlog, its age, and how fast it fills and drains.
  $("buffer-waiting").textContent = b.samples ? t("waiting", { n: fmtInt(b.samples) }) + " · " + t("oldestWaiting", { age: fmtDuration(b.oldestSampleAgeSeconds) }) : t("emptyBuffer");
  $("buffer-waiting").className = "waiting" + (b.samples > 1000 ? " backlog" : "");
  $("buffer-fill-rate").textContent = b.fillRatePerSecond == null ? "—" : fmtNumber(b.fillRatePerSecond) + " " + t("perSecond");
  $("buffer-drain-rate").textContent = b.drainRatePerSecond == null ? "—" : fmtNumber(b.drainRatePerSecond) + " " + t("perSecond");
  $("buffer-to-empty").textContent = b.minutesToEmpty == null ? (b.samples ? t("notDraining") : "—") : b.minutesToEmpty === 0 ? "0 " + t("unitMinutes") : fmtDuration(b.minutesToEmpty * 60);

  $("drivers").replaceChildren(...(st.drivers || []).map((d) => {
    const li = el("li");
    li.dataset.driver = d.name;
    const cls = d.state === "Connected" ? "ok" : d.state === "Degraded" || d.state === "Starting" ? "warn" : "err";
    li.append(el("span", "name", d.name), el("span", "badge " + cls, t("d." + d.state)),
      el("span", "meta", t("readCount", { tags: fmtInt(d.tags), samples: fmtInt(d.samplesRead) })));
    if (d.lastError) li.append(el("span", "error", d.lastError));
    return li;
  }));
}

// ---------- OEE ----------
const cards = new Map();

function renderOee(report) {
  const container = $("machines");
  const names = new Set(report.machines.map((m) => m.name));
  for (const [name, card] of cards) if (!names.has(name)) { card.root.remove(); cards.delete(name); }
  for (const m of report.machines) {
    let card = cards.get(m.name);
    if (!card) { card = makeCard(m.name); cards.set(m.name, card); container.append(card.root); }
    fillCard(card, m, report.generatedAt);
  }
  $("no-oee").hidden = report.machines.length > 0;
  $("legend").hidden = report.machines.length === 0;
}

function makeCard(name) {
  const root = el("article", "card machine");
  root.dataset.machine = name;
  const head = el("div", "machine-head");
  const title = el("h3", null, name);
  const state = el("span", "state");
  const since = el("span", "since");
  head.append(title, state, since);

  const gauge = el("div", "gauge");
  // A 270° arc: r = 80, circumference 502.65, three quarters 376.99, turned so the gap is at the bottom.
  const g = svg("svg", { viewBox: "0 0 200 190", role: "img" });
  const track = svg("circle", { cx: 100, cy: 100, r: 80, fill: "none", "stroke-width": 18, class: "track", "stroke-linecap": "round", "stroke-dasharray": "376.99 502.65", transform: "rotate(135 100 100)" });
  const value = svg("circle", { cx: 100, cy: 100, r: 80, fill: "none", "stroke-width": 18, class: "value lvl-none", "stroke-linecap": "round", "stroke-dasharray": "0 502.65", transform: "rotate(135 100 100)" });
  const pct = svg("text", { x: 100, y: 108, "text-anchor": "middle", class: "pct" });
  const lbl = svg("text", { x: 100, y: 140, "text-anchor": "middle", class: "lbl" });
  const titleEl = svg("title");
  g.append(titleEl, track, value, pct, lbl);
  gauge.append(g);

  const kpis = el("div", "kpis");
  const kpiRows = ["availability", "performance", "qualityKpi"].map((k) => {
    const row = el("div", "kpi");
    row.dataset.kpi = k;
    const letter = el("b");
    const bar = el("div", "bar");
    const fill = el("span");
    bar.append(fill);
    const out = el("output");
    row.append(letter, bar, out);
    kpis.append(row);
    return { row, letter, fill, out, key: k };
  });
  const overHint = el("div", "over-hint");
  overHint.hidden = true;
  const lastHour = el("div", "last-hour");
  const previousShift = el("div", "previous-shift");
  kpis.append(overHint, lastHour, previousShift);

  const counts = el("dl", "counts");
  const countEls = {};
  for (const k of ["total", "good", "reject"]) {
    const d = el("div", k);
    const dt = el("dt");
    const dd = el("dd", "count-" + k, "—");
    d.append(dt, dd);
    counts.append(d);
    countEls[k] = { dt, dd };
  }

  const timeline = el("div", "timeline");
  const tlHead = el("div", "timeline-head");
  const tlShift = el("span");
  const tlNow = el("span");
  // Zoom: the last hour, where a 2-minute stop is 3 % of the width; the readout names what the pointer is on.
  const tlZoom = el("button", "ghost zoom");
  tlZoom.type = "button";
  tlZoom.addEventListener("click", () => {
    view.zoom.set(name, !view.zoom.get(name));
    if (view.oee) renderOee(view.oee);
  });
  tlHead.append(tlShift, tlZoom, tlNow);
  const tl = svg("svg", { viewBox: "0 0 1000 40", preserveAspectRatio: "none", role: "img" });
  const tlAxis = el("div", "timeline-axis");
  const tlStart = el("span");
  const tlEnd = el("span");
  tlAxis.append(tlStart, tlEnd);
  const tlReadout = el("div", "timeline-readout");
  tlReadout.setAttribute("aria-live", "polite");
  const readout = (e) => {
    const r = e.target.closest && e.target.closest("rect[data-start]");
    tlReadout.textContent = r ? r.dataset.label : "";
  };
  tl.addEventListener("mousemove", readout);
  tl.addEventListener("click", readout);
  tl.addEventListener("mouseleave", () => { tlReadout.textContent = ""; });
  timeline.append(tlHead, tl, tlAxis, tlReadout);

  const reasons = el("div", "reasons");
  const reasonsTitle = el("h4");
  const reasonsList = el("ol");
  reasons.append(reasonsTitle, reasonsList);

  root.append(head, gauge, kpis, counts, timeline, reasons);
  return { root, state, since, value, pct, lbl, titleEl, kpiRows, overHint, lastHour, previousShift, countEls, tlShift, tlZoom, tlNow, tl, tlStart, tlEnd, tlReadout, reasonsTitle, reasonsList };
}

// Above 100 % by more than one part: a count is whole parts, so a period that began mid-cycle may count one part
// more than its run time allows (just after a shift start); only beyond that is the ideal cycle time wrong.
function overOnePart(ratio, period) {
  if (ratio == null || ratio <= 1) return false;
  const total = period && period.totalCount;
  return !total || ratio * (total - 1) / total > 1;
}

// A figure without a value: in a planned stop the machine is not expected to produce, so say so instead of "—".
function noFigure(m) { return m.state === "planned-stop" ? t("s.planned-stop") : "—"; }

function fillCard(c, m, now) {
  const state = STATES.includes(m.state) ? m.state : "unknown";
  c.state.className = "state state-" + state;
  c.state.textContent = t("s." + state) + (m.reason ? " · " + m.reason : "");
  c.since.textContent = m.stateSince ? t("since") + " " + fmtTime(m.stateSince, false) + " (" + fmtDuration((new Date(now) - new Date(m.stateSince)) / 1000) + ")" : "";

  const p = m.currentShift || m.lastHour;
  const oee = p ? p.oee : null;
  const ratio = oee == null ? 0 : Math.min(1, Math.max(0, oee));
  c.value.setAttribute("stroke-dasharray", (376.99 * ratio).toFixed(2) + " 502.65");
  c.value.setAttribute("class", "value lvl-" + level(oee));
  // In a planned stop with nothing planned yet, the figures are undefined by design: say so rather than "—".
  const planned = oee == null && state === "planned-stop";
  c.pct.textContent = planned ? "" : oee == null ? "—" : Math.round(oee * 100) + "%";
  c.pct.setAttribute("class", "pct");
  c.lbl.textContent = planned ? t("s.planned-stop") : OEE_NAME[view.lang];
  c.lbl.setAttribute("class", planned ? "lbl planned" : "lbl");
  c.titleEl.textContent = OEE_NAME[view.lang] + " " + fmtPct(oee) + (oee != null && oee > 1 ? " — " + t("overHint") : "");

  const letters = KPI_LETTERS[view.lang];
  const values = p ? [p.availability, p.performance, p.quality] : [null, null, null];
  c.kpiRows.forEach((k, i) => {
    k.letter.textContent = letters[i];
    k.letter.title = t(k.key);
    // Shown as measured, never clamped: above 100 % says the configured ideal cycle time is wrong.
    const over = overOnePart(values[i], p);
    k.row.classList.toggle("over", over);
    k.row.title = t(k.key) + (over ? " — " + t("overHint") : "");
    k.fill.style.width = values[i] == null ? "0" : (Math.min(1, values[i]) * 100).toFixed(1) + "%";
    k.fill.style.background = values[i] == null ? "" : `var(--${level(values[i]) === "good" ? "running" : level(values[i]) === "fair" ? "idle" : "down"})`;
    k.out.textContent = values[i] == null ? (planned ? t("plannedShort") : "—") : Math.round(values[i] * 100) + "%";
    if (values[i] == null && m.state === "planned-stop") k.row.title = t(k.key) + " — " + noFigure(m);
  });
  c.overHint.hidden = !values.some((v) => overOnePart(v, p));
  c.overHint.textContent = "⚠ " + t("overHint");
  const colon = view.lang === "fr" ? " : " : ": ";
  c.lastHour.textContent = t("lastHour") + colon + (m.lastHour && m.lastHour.oee != null ? fmtPct(m.lastHour.oee) : noFigure(m));
  const prev = m.previousShift;
  c.previousShift.hidden = !prev;
  c.previousShift.textContent = prev ? t("previousShift") + " (" + prev.name + ", " + fmtTime(prev.start, false) + "–" + fmtTime(prev.end, false) + ")" + colon + fmtPct(prev.oee) : "";

  c.countEls.total.dt.textContent = t("total");
  c.countEls.good.dt.textContent = t("good");
  c.countEls.reject.dt.textContent = t("reject");
  c.countEls.total.dd.textContent = fmtInt(p ? p.totalCount : null);
  c.countEls.good.dd.textContent = fmtInt(p ? p.goodCount : null);
  c.countEls.reject.dd.textContent = fmtInt(p ? p.rejectCount : null);

  // Timeline: the whole shift from start to end, coloured up to now; between shifts, the last hour.
  const shift = m.currentShift;
  const nowMs = new Date(now).getTime();
  const zoomed = !!view.zoom.get(m.name);
  const from = zoomed ? nowMs - 3600e3 : new Date(shift ? shift.start : m.lastHour.start).getTime();
  const to = zoomed ? nowMs + 60e3 : new Date(shift ? shift.end : m.lastHour.end).getTime();
  c.tlZoom.textContent = zoomed ? t("zoomShift") : t("zoomHour");
  c.tlZoom.setAttribute("aria-pressed", String(zoomed));
  const span = Math.max(1, to - from);
  const x = (ms) => Math.min(1000, Math.max(0, ((ms - from) / span) * 1000));
  const rects = [];
  for (const e of m.timeline) {
    const x0 = x(new Date(e.start).getTime());
    const x1 = x(new Date(e.end).getTime());
    if (x1 <= x0) continue;
    const s = STATES.includes(e.state) ? e.state : "unknown";
    // At least 2 units of 1000 wide: a 2-minute stop in an 8-hour shift (4 units) stays visible, and hoverable.
    const r = svg("rect", { x: x0.toFixed(2), y: 0, width: Math.max(2, x1 - x0).toFixed(2), height: 40, class: "seg-" + s });
    const title = svg("title");
    title.textContent = t("s." + s) + (e.reason ? " · " + e.reason : "") + " — " + fmtTime(e.start) + "–" + fmtTime(e.end) + " (" + fmtDuration((new Date(e.end) - new Date(e.start)) / 1000) + ")";
    r.dataset.start = e.start;
    r.dataset.state = s;
    r.dataset.label = title.textContent;
    r.append(title);
    rects.push(r);
  }
  // Scheduled breaks of the shift (past and to come), hatched over the states.
  for (const b of m.breaks || []) {
    const x0 = x(new Date(b.start).getTime());
    const x1 = x(new Date(b.end).getTime());
    if (x1 <= x0) continue;
    const r = svg("rect", { x: x0.toFixed(2), y: 0, width: (x1 - x0).toFixed(2), height: 40, class: "brk" });
    const title = svg("title");
    title.textContent = t("break") + " " + fmtTime(b.start, false) + "–" + fmtTime(b.end, false);
    r.dataset.start = b.start;
    r.dataset.label = title.textContent;
    r.append(title);
    rects.push(r);
  }
  if (nowMs > from && nowMs < to) rects.push(svg("line", { x1: x(nowMs), x2: x(nowMs), y1: 0, y2: 40, class: "now", "vector-effect": "non-scaling-stroke" }));
  c.tl.replaceChildren(...rects);
  c.tlShift.textContent = zoomed ? t("lastHour") : shift ? t("shift") + " " + shift.name : t("noShift") + " · " + t("lastHour");
  c.tlNow.textContent = fmtTime(now, false) + (view.timeZone ? " " + view.timeZone : "");
  c.tlStart.textContent = fmtTime(new Date(from).toISOString(), false);
  c.tlEnd.textContent = fmtTime(new Date(to).toISOString(), false);

  c.reasonsTitle.textContent = t("topReasons");
  const top = m.topDowntimeReasons.slice(0, 5);
  const max = Math.max(1, ...top.map((r) => r.seconds));
  if (top.length === 0) {
    c.reasonsList.replaceChildren(el("li", "none", t("noDowntime")));
  } else {
    c.reasonsList.replaceChildren(...top.map((r) => {
      const li = el("li");
      const name = el("span", "name", r.reason);
      name.title = r.reason;
      const bar = el("span", "bar");
      const fill = el("span");
      fill.style.width = ((r.seconds / max) * 100).toFixed(1) + "%";
      bar.append(fill);
      li.append(name, bar, el("span", "dur", fmtDuration(r.seconds) + " · " + r.count + t("times")));
      return li;
    }));
  }
}

// ---------- start ----------
function start() {
  for (const b of document.querySelectorAll(".lang button")) {
    b.addEventListener("click", () => {
      view.lang = b.dataset.lang;
      safeStorage("set", view.lang);
      applyLanguage();
    });
  }
  $("f-machine").addEventListener("change", (e) => { e.target.dataset.value = e.target.value; applyFilter(); });
  $("f-quality").addEventListener("change", () => applyFilter());
  $("f-text").addEventListener("input", () => applyFilter());
  fetch("/api/session", { credentials: "same-origin" }).then((r) => r.ok ? r.json() : null).then((s) => {
    if (s && s.loginRequired) $("logout").hidden = false;
    if (s && s.viewer) $("commission-link").hidden = true; // a viewer may change nothing
  }, () => {});
  applyLanguage();
  connect();
}

start();
