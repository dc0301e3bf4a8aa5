// Coaching report: a period against a baseline, per machine, from /api/oee/history?by=total (plant dates).
// URL: /report?baseFrom=2026-11-02&baseTo=2026-11-08&from=2026-12-07&to=2026-12-13&lang=fr (dates inclusive).
"use strict";

const I18N = {
  en: {
    title: "Coaching report", print: "Print / PDF", back: "Dashboard", baseline: "Baseline", period: "Period", from: "From", to: "to", show: "Show",
    definitions: "Definitions", indicator: "Indicator", change: "Change", oee: "OEE", availability: "Availability (A)", performance: "Performance (P)",
    quality: "Quality (Q)", total: "Parts made", good: "Good parts", reject: "Rejects", planned: "Planned production time", run: "Run time",
    pareto: "Losses (Pareto, period)", reasons: "Top downtime reasons (period)", noData: "No history for this machine in these periods.", noMachines: "No machine has an OEE history.",
    summary: "{period} against the baseline {baseline}; plant time zone {zone}. Ratios in %, changes in points.", points: "pts",
    breakdown: "Breakdowns", setup: "Setup and adjustments", micro: "Micro-stops", reduced: "Reduced speed", startup: "Start-up rejects", production: "Production rejects",
    "d.oee": "OEE = A × P × Q = ideal cycle time × good parts / planned production time (ISO 22400-2).",
    "d.availability": "A = run time / planned production time. Planned production time is the shifts minus breaks, plus any time running outside them; planned stops and unknown time (no data, gateway off) are left out.",
    "d.performance": "P = ideal cycle time × parts made / run time. Above 100 % means the configured ideal cycle time is too long.",
    "d.quality": "Q = good parts / parts made.",
    "d.losses": "The six big losses, in seconds: breakdowns (stops at least as long as the micro-stop threshold), setup, micro-stops (shorter stops), reduced speed (run time − ideal cycle × parts), start-up and production rejects (rejects × ideal cycle). A period's figures are the sums of its hours.",
    "d.reasons": "Top reasons: stops within planned time grouped by the reason the machine gave (or its state when none), with their seconds and how many hours they touched.",
    badDates: "Each period needs a start and an end, the end not before the start.",
  },
  fr: {
    title: "Rapport d'accompagnement", print: "Imprimer / PDF", back: "Tableau de bord", baseline: "Référence", period: "Période", from: "Du", to: "au", show: "Afficher",
    definitions: "Définitions", indicator: "Indicateur", change: "Écart", oee: "TRS", availability: "Disponibilité (D)", performance: "Performance (P)",
    quality: "Qualité (Q)", total: "Pièces produites", good: "Pièces bonnes", reject: "Rebuts", planned: "Temps de production planifié", run: "Temps de marche",
    pareto: "Pertes (Pareto, période)", reasons: "Principales causes d'arrêt (période)", noData: "Pas d'historique pour cette machine sur ces périodes.", noMachines: "Aucune machine n'a d'historique de TRS.",
    summary: "{period} comparée à la référence {baseline} ; fuseau de l'usine {zone}. Ratios en %, écarts en points.", points: "pts",
    breakdown: "Pannes", setup: "Changements et réglages", micro: "Micro-arrêts", reduced: "Sous-vitesse", startup: "Rebuts au démarrage", production: "Rebuts en production",
    "d.oee": "TRS = D × P × Q = temps de cycle idéal × pièces bonnes / temps de production planifié (ISO 22400-2).",
    "d.availability": "D = temps de marche / temps de production planifié. Le temps planifié est celui des équipes moins les pauses, plus toute marche en dehors ; les arrêts planifiés et le temps inconnu (pas de données, passerelle arrêtée) en sont exclus.",
    "d.performance": "P = temps de cycle idéal × pièces produites / temps de marche. Au-dessus de 100 %, le temps de cycle idéal configuré est trop long.",
    "d.quality": "Q = pièces bonnes / pièces produites.",
    "d.losses": "Les six grandes pertes, en secondes : pannes (arrêts au moins aussi longs que le seuil de micro-arrêt), changements et réglages, micro-arrêts (arrêts plus courts), sous-vitesse (temps de marche − cycle idéal × pièces), rebuts au démarrage et en production (rebuts × cycle idéal). Les chiffres d'une période sont les sommes de ses heures.",
    "d.reasons": "Principales causes : les arrêts dans le temps planifié groupés par la cause donnée par la machine (ou son état à défaut), avec leurs secondes et le nombre d'heures touchées.",
    badDates: "Chaque période a un début et une fin, la fin pas avant le début.",
  },
};
const DEFINITIONS = [["oee", "d.oee"], ["availability", "d.availability"], ["performance", "d.performance"], ["quality", "d.quality"], ["pareto", "d.losses"], ["reasons", "d.reasons"]];
const LOSSES = [["breakdown", (p) => p.losses.breakdownSeconds], ["setup", (p) => p.losses.setupSeconds], ["micro", (p) => p.losses.microStopSeconds],
  ["reduced", (p) => p.losses.reducedSpeedSeconds], ["startup", (p) => p.losses.startupRejectSeconds], ["production", (p) => p.losses.productionRejectSeconds]];

const state = { lang: pickLanguage(), zone: null, data: null };
const $ = (id) => document.getElementById(id);
function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}
function pickLanguage() {
  const asked = new URLSearchParams(location.search).get("lang");
  if (asked === "fr" || asked === "en") return asked;
  try { const s = localStorage.getItem("gateway.lang"); if (s === "fr" || s === "en") return s; } catch { /* private mode */ }
  return String((navigator.languages && navigator.languages[0]) || navigator.language || "en").toLowerCase().startsWith("fr") ? "fr" : "en";
}
function t(key, args) {
  let text = I18N[state.lang][key] ?? I18N.en[key] ?? key;
  if (args) for (const [k, v] of Object.entries(args)) text = text.replace("{" + k + "}", v);
  return text;
}
const locale = () => (state.lang === "fr" ? "fr-FR" : "en-GB");
const pct = (r) => (r == null ? "—" : new Intl.NumberFormat(locale(), { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(r * 100) + " %");
const int = (n) => (n == null ? "—" : new Intl.NumberFormat(locale()).format(n));
function duration(s) {
  if (s == null) return "—";
  s = Math.round(s);
  if (s < 3600) return Math.floor(s / 60) + " min " + String(s % 60).padStart(2, "0") + " s";
  return Math.floor(s / 3600) + " h " + String(Math.floor((s % 3600) / 60)).padStart(2, "0") + " min";
}
function fmtDate(iso) { // a plant date, yyyy-mm-dd, written out without any zone arithmetic
  const [y, m, d] = iso.split("-").map(Number);
  return new Intl.DateTimeFormat(locale(), { timeZone: "UTC", day: "numeric", month: "long", year: "numeric" }).format(new Date(Date.UTC(y, m - 1, d)));
}
function addDays(iso, n) {
  const [y, m, d] = iso.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

function applyLanguage() {
  document.documentElement.lang = state.lang;
  document.title = t("title");
  for (const e of document.querySelectorAll("[data-i18n]")) e.textContent = t(e.dataset.i18n);
  for (const b of document.querySelectorAll(".lang button")) b.setAttribute("aria-pressed", String(b.dataset.lang === state.lang));
  $("definition-list").replaceChildren(...DEFINITIONS.flatMap(([term, text]) => [el("dt", null, t(term)), el("dd", null, t(text))]));
  if (state.data) render();
}

async function load() {
  const f = { baseFrom: $("base-from").value, baseTo: $("base-to").value, from: $("from").value, to: $("to").value };
  if (!f.baseFrom || !f.baseTo || !f.from || !f.to || f.baseTo < f.baseFrom || f.to < f.from) { showError(t("badDates")); return; }
  const ask = (from, to) => fetch(`/api/oee/history?by=total&from=${from}&to=${addDays(to, 1)}`, { credentials: "same-origin" })
    .then(async (r) => { const body = await r.json(); if (!r.ok) throw new Error(body.error || r.status); return body; });
  try {
    const [baseline, period] = await Promise.all([ask(f.baseFrom, f.baseTo), ask(f.from, f.to)]);
    showError(null);
    state.data = { f, baseline, period };
    history.replaceState(null, "", "/report?" + new URLSearchParams({ ...f, lang: state.lang }));
    render();
  } catch (e) { showError(String(e.message || e)); }
}

function showError(text) { $("error").hidden = !text; $("error").textContent = text || ""; }

function render() {
  const { f, baseline, period } = state.data;
  $("summary").textContent = t("summary", { period: fmtDate(f.from) + " – " + fmtDate(f.to), baseline: fmtDate(f.baseFrom) + " – " + fmtDate(f.baseTo), zone: period.timeZone });
  const names = [...new Set([...state.machines, ...baseline.periods.map((p) => p.machine), ...period.periods.map((p) => p.machine)])];
  if (names.length === 0) { $("machines").replaceChildren(el("p", "empty", t("noMachines"))); return; }
  $("machines").replaceChildren(...names.map((name) => machineSection(name, baseline.periods.find((p) => p.machine === name), period.periods.find((p) => p.machine === name))));
}

function machineSection(name, b, p) {
  const section = el("section", "machine");
  section.dataset.machine = name;
  section.append(el("h2", null, name));
  if (!b && !p) { section.append(el("p", "empty", t("noData"))); return section; }
  const table = el("table", "kpis");
  const head = el("tr");
  for (const h of [t("indicator"), t("baseline"), t("period"), t("change")]) head.append(el("th", null, h));
  table.append(head);
  const ratio = (key) => [pct(b && b[key]), pct(p && p[key]), b && p && b[key] != null && p[key] != null ? (p[key] - b[key]) * 100 : null];
  const rows = [["oee", ...ratio("oee")], ["availability", ...ratio("availability")], ["performance", ...ratio("performance")], ["quality", ...ratio("quality")],
    ["total", int(b && b.totalCount), int(p && p.totalCount), null], ["good", int(b && b.goodCount), int(p && p.goodCount), null],
    ["reject", int(b && b.rejectCount), int(p && p.rejectCount), null], ["planned", duration(b && b.plannedSeconds), duration(p && p.plannedSeconds), null],
    ["run", duration(b && b.runSeconds), duration(p && p.runSeconds), null]];
  for (const [key, base, now, delta] of rows) {
    const tr = el("tr");
    tr.dataset.kpi = key;
    tr.append(el("td", null, t(key)), el("td", null, base), el("td", null, now));
    const d = el("td", delta == null ? "" : delta > 0.05 ? "up" : delta < -0.05 ? "down" : "", delta == null ? "" : (delta > 0 ? "+" : "") + new Intl.NumberFormat(locale(), { maximumFractionDigits: 1, minimumFractionDigits: 1 }).format(delta) + " " + t("points"));
    tr.append(d);
    table.append(tr);
  }
  section.append(table);

  section.append(el("h3", null, t("pareto")));
  const key = el("p", "key");
  key.append(el("i", "b"), document.createTextNode(t("baseline")), el("i", "p"), document.createTextNode(t("period")));
  section.append(key);
  const losses = LOSSES.map(([k, get]) => [k, p ? get(p) : 0, b ? get(b) : 0]).sort((x, y) => y[1] - x[1] || y[2] - x[2]);
  const max = Math.max(1, ...losses.flatMap((l) => [l[1], l[2]]));
  const pareto = el("div", "pareto");
  for (const [k, now, base] of losses) {
    const bars = el("div", "bars");
    const bb = el("span", "b"); bb.style.width = ((base / max) * 100).toFixed(1) + "%";
    const pb = el("span", "p"); pb.style.width = ((now / max) * 100).toFixed(1) + "%";
    bars.append(bb, pb);
    const label = el("span", "loss", t(k));
    label.dataset.loss = k;
    pareto.append(label, bars, el("span", "dur", duration(now)));
  }
  section.append(pareto);

  section.append(el("h3", null, t("reasons")));
  const reasons = (p && p.topDowntimeReasons) || [];
  const ol = el("ol", "reasons");
  for (const r of reasons.slice(0, 5)) {
    const before = b && b.topDowntimeReasons.find((x) => x.reason === r.reason);
    ol.append(el("li", null, r.reason + " — " + duration(r.seconds) + (before ? " (" + t("baseline").toLowerCase() + " " + duration(before.seconds) + ")" : "")));
  }
  if (reasons.length === 0) ol.append(el("li", "empty", "—"));
  section.append(ol);
  return section;
}

async function start() {
  state.machines = [];
  for (const b of document.querySelectorAll(".lang button")) b.addEventListener("click", () => {
    state.lang = b.dataset.lang;
    try { localStorage.setItem("gateway.lang", state.lang); } catch { /* private mode */ }
    applyLanguage();
    if (state.data) history.replaceState(null, "", "/report?" + new URLSearchParams({ ...state.data.f, lang: state.lang }));
  });
  $("print").addEventListener("click", () => window.print());
  $("periods").addEventListener("submit", (e) => { e.preventDefault(); load(); });
  applyLanguage();
  // Today on the plant's clock, and its machines, from /api/oee.
  const oee = await fetch("/api/oee", { credentials: "same-origin" }).then((r) => r.json());
  state.machines = oee.machines.map((m) => m.name);
  const today = String(oee.plantTime || oee.generatedAt).slice(0, 10);
  const q = new URLSearchParams(location.search);
  $("to").value = q.get("to") || today;
  $("from").value = q.get("from") || addDays($("to").value, -6);
  $("base-to").value = q.get("baseTo") || addDays($("from").value, -1);
  $("base-from").value = q.get("baseFrom") || addDays($("base-to").value, -6);
  fetch("/api/status", { credentials: "same-origin" }).then((r) => r.json()).then((s) => {
    const g = s.gateway || {};
    $("place").textContent = [g.enterprise, g.site, g.area, g.line].filter(Boolean).join(" › ");
  }, () => {});
  load();
}

start();
