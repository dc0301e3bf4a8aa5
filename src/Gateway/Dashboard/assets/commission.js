"use strict";
// The commissioning page (issue 16): drivers list, discovery (OPC UA lazy tree, Modbus scan), picked tags, preview,
// save. Plain JS, no framework. Every API call sends X-Gateway-Request (the CSRF rule of ChangeRequestGuard).

const I18N = {
  en: {
    title: "Commissioning", back: "Back to the dashboard", drivers: "Drivers", newName: "Name", type: "Type", add: "Add a driver",
    editing: "Driver", edit: "Edit", disable: "Disable", enable: "Enable", remove: "Delete", restore: "Keep", deleted: "deleted",
    disabledBadge: "disabled", newBadge: "new", changedBadge: "changed",
    browse: "Browse the server", browseButton: "Browse", search: "Search by name", scan: "Scan the unit", ranges: "Ranges", scanButton: "Scan",
    scanHint: "Click the reading that looks right: a temperature reads 21.4 in one word order and 1.7e-39 in another.",
    tags: "Tags", tagName: "Name", path: "UNS path", address: "Address", unit: "Unit", scale: "Scale", offset: "Offset", deadband: "Deadband",
    previewButton: "Preview", quality: "Quality", timestamp: "Timestamp", published: "Published as", payload: "Payload",
    save: "Save and apply", saving: "Saving…", saved: "Saved ({backup} kept).", unchanged: "Nothing to save.",
    refused: "Refused: the running configuration is kept. Problems:", conflict: "The file changed since this page read it: reload the page.",
    restarted: "Restarted", addedDrivers: "Started", removedDrivers: "Stopped", restartRequired: "Needs a restart", none: "none",
    noSample: "no sample in time", folder: "whole folder", loading: "…", removeTag: "Remove",
    "f.endpointUrl": "Endpoint URL", "f.securityPolicy": "Security policy", "f.securityMode": "Security mode",
    "f.trustServerCertificate": "Server certificate", "f.username": "User", "f.passwordFile": "Password file", "f.machine": "Machine",
    "f.host": "Host", "f.port": "Port", "f.unitId": "Unit id", "f.rtuOverTcp": "RTU over TCP", "f.serialPort": "Serial port",
    "f.baud": "Baud", "f.parity": "Parity", "f.intervalMs": "Poll interval (ms)", "f.rack": "Rack", "f.slot": "Slot",
    "f.localTsap": "Local TSAP (LOGO!, S7-200 Smart)", "f.remoteTsap": "Remote TSAP", "f.pduSize": "PDU size",
    units: "Unit ids", findUnits: "Find the units", noUnit: "no unit answers", unitAnswers: "unit {unit}", scanUnit: "scan unit {unit}",
    certificate: "Server certificate", fetchCertificate: "Show the server certificate", trust: "Trust this server certificate",
    trusted: "trusted", notTrusted: "not trusted", trustedAs: "Trusted: {file}", subject: "Subject", issuer: "Issuer",
    thumbprint: "SHA-1 thumbprint", validity: "Valid", endpoints: "Endpoints", appUri: "Application URI", noCertificate: "The server offers no secure endpoint (no certificate).",
    s7scan: "Read a data block", s7start: "Start byte", s7length: "Length (bytes)",
    s7Hint: "S7 is big-endian. Click the reading that looks right: it becomes a tag with the driver's address (DB1.DBD4).",
  },
  fr: {
    title: "Mise en service", back: "Retour au tableau de bord", drivers: "Pilotes", newName: "Nom", type: "Type", add: "Ajouter un pilote",
    editing: "Pilote", edit: "Modifier", disable: "Désactiver", enable: "Activer", remove: "Supprimer", restore: "Garder", deleted: "supprimé",
    disabledBadge: "désactivé", newBadge: "nouveau", changedBadge: "modifié",
    browse: "Parcourir le serveur", browseButton: "Parcourir", search: "Chercher par nom", scan: "Scanner l'esclave", ranges: "Plages", scanButton: "Scanner",
    scanHint: "Cliquez la lecture qui semble juste : une température vaut 21,4 dans un ordre des mots et 1,7e-39 dans un autre.",
    tags: "Variables", tagName: "Nom", path: "Chemin UNS", address: "Adresse", unit: "Unité", scale: "Échelle", offset: "Décalage", deadband: "Bande morte",
    previewButton: "Aperçu", quality: "Qualité", timestamp: "Horodatage", published: "Publié comme", payload: "Contenu",
    save: "Enregistrer et appliquer", saving: "Enregistrement…", saved: "Enregistré ({backup} conservé).", unchanged: "Rien à enregistrer.",
    refused: "Refusé : la configuration en cours est conservée. Problèmes :", conflict: "Le fichier a changé depuis l'ouverture de la page : rechargez-la.",
    restarted: "Redémarrés", addedDrivers: "Démarrés", removedDrivers: "Arrêtés", restartRequired: "Redémarrage nécessaire", none: "aucun",
    noSample: "pas d'échantillon à temps", folder: "dossier entier", loading: "…", removeTag: "Retirer",
    "f.endpointUrl": "URL du serveur", "f.securityPolicy": "Politique de sécurité", "f.securityMode": "Mode de sécurité",
    "f.trustServerCertificate": "Certificat du serveur", "f.username": "Utilisateur", "f.passwordFile": "Fichier du mot de passe", "f.machine": "Machine",
    "f.host": "Hôte", "f.port": "Port", "f.unitId": "N° d'esclave", "f.rtuOverTcp": "RTU sur TCP", "f.serialPort": "Port série",
    "f.baud": "Bauds", "f.parity": "Parité", "f.intervalMs": "Période de scrutation (ms)", "f.rack": "Rack", "f.slot": "Emplacement",
    "f.localTsap": "TSAP local (LOGO!, S7-200 Smart)", "f.remoteTsap": "TSAP distant", "f.pduSize": "Taille de PDU",
    units: "N° d'esclaves", findUnits: "Trouver les esclaves", noUnit: "aucun esclave ne répond", unitAnswers: "esclave {unit}", scanUnit: "scanner l'esclave {unit}",
    certificate: "Certificat du serveur", fetchCertificate: "Afficher le certificat du serveur", trust: "Faire confiance à ce certificat",
    trusted: "approuvé", notTrusted: "non approuvé", trustedAs: "Approuvé : {file}", subject: "Sujet", issuer: "Émetteur",
    thumbprint: "Empreinte SHA-1", validity: "Valide", endpoints: "Points d'accès", appUri: "URI d'application", noCertificate: "Le serveur n'offre aucun point d'accès sécurisé (pas de certificat).",
    s7scan: "Lire un bloc de données", s7start: "Octet de début", s7length: "Longueur (octets)",
    s7Hint: "Le S7 est gros-boutiste. Cliquez la lecture qui semble juste : elle devient une variable avec l'adresse du pilote (DB1.DBD4).",
  },
};

// The keys of each driver type the form shows; every other key of the driver is kept as it is.
const FIELDS = {
  opcua: [["endpointUrl", "text"], ["securityPolicy", ["None", "Basic256Sha256", "Aes128_Sha256_RsaOaep", "Aes256_Sha256_RsaPss"]],
    ["securityMode", ["", "Sign", "SignAndEncrypt"]], ["trustServerCertificate", ["trustList", "tofu"]], ["username", "text"], ["passwordFile", "text"], ["machine", "text"]],
  "modbus-tcp": [["host", "text"], ["port", "number"], ["unitId", "number"], ["rtuOverTcp", "checkbox"], ["intervalMs", "number"], ["machine", "text"]],
  "modbus-rtu": [["serialPort", "text"], ["baud", "number"], ["parity", ["even", "none", "odd"]], ["unitId", "number"], ["intervalMs", "number"], ["machine", "text"]],
  s7: [["host", "text"], ["port", "number"], ["rack", "number"], ["slot", "number"], ["localTsap", "text"], ["remoteTsap", "text"], ["pduSize", "number"], ["intervalMs", "number"], ["machine", "text"]],
};
const ORDERS = ["ABCD", "CDAB", "BADC", "DCBA"];

const state = { lang: pickLanguage(), hash: null, drivers: [], current: null, document: null };

function pickLanguage() {
  try { const saved = localStorage.getItem("gateway.lang"); if (saved === "en" || saved === "fr") return saved; } catch { /* private mode */ }
  const langs = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || "en"];
  return String(langs[0]).toLowerCase().startsWith("fr") ? "fr" : "en";
}
function t(key, args) {
  let text = (I18N[state.lang] && I18N[state.lang][key]) ?? I18N.en[key] ?? key;
  if (args) for (const [k, v] of Object.entries(args)) text = text.replace("{" + k + "}", v);
  return text;
}
const $ = (id) => document.getElementById(id);
function el(tag, props, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (k === "dataset") Object.assign(e.dataset, v); else if (k === "onclick") e.addEventListener("click", v); else if (v !== undefined && v !== null) e[k] = v;
  }
  for (const c of children) e.append(c);
  return e;
}
function applyLanguage() {
  document.documentElement.lang = state.lang;
  for (const e of document.querySelectorAll("[data-i18n]")) e.textContent = t(e.dataset.i18n);
  for (const e of document.querySelectorAll("[data-i18n-placeholder]")) e.placeholder = t(e.dataset.i18nPlaceholder);
  for (const b of document.querySelectorAll(".lang button")) b.setAttribute("aria-pressed", String(b.dataset.lang === state.lang));
  renderDrivers();
  if (state.current) renderEditor();
}

async function api(path, body) {
  const response = await fetch("/api/commission" + path, {
    method: body === undefined ? "GET" : "POST",
    headers: { "X-Gateway-Request": "commission", "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({ error: response.statusText }));
  return { status: response.status, data };
}
function message(text) { const m = $("message"); m.textContent = text || ""; m.hidden = !text; }

// ---------- drivers ----------
async function load() {
  const { status, data } = await api("/config");
  if (status !== 200) { message(data.error || String(status)); return; }
  message("");
  state.hash = data.hash;
  state.document = data.document;
  $("file").textContent = data.path;
  state.drivers = (data.document.drivers || []).map((d, i) => ({ index: i, driver: d, original: JSON.stringify(d), deleted: false }));
  const types = $("new-type");
  types.replaceChildren(...data.driverTypes.map((x) => el("option", { value: x, textContent: x })));
  types.value = "opcua";
  state.current = null;
  $("editor").hidden = true;
  renderDrivers();
}

function renderDrivers() {
  $("drivers").replaceChildren(...state.drivers.map((d) => {
    const enabled = d.driver.enabled !== false;
    const badge = d.deleted ? t("deleted") : d.index === null ? t("newBadge") : JSON.stringify(d.driver) !== d.original ? t("changedBadge") : "";
    return el("li", { className: (enabled ? "" : "disabled") + (d.deleted ? " deleted" : ""), dataset: { driver: d.driver.name } },
      el("span", { className: "name", textContent: d.driver.name }),
      el("span", { className: "type", textContent: d.driver.type }),
      el("span", { className: "badge", textContent: [enabled ? "" : t("disabledBadge"), badge].filter(Boolean).join(" · ") }),
      el("button", { type: "button", className: "edit", textContent: t("edit"), disabled: d.deleted, onclick: () => { state.current = d; renderEditor(); } }),
      el("button", { type: "button", className: "toggle", textContent: enabled ? t("disable") : t("enable"), disabled: d.deleted, onclick: () => { d.driver.enabled = !enabled; if (enabled === false) delete d.driver.enabled; renderDrivers(); } }),
      el("button", { type: "button", className: "delete", textContent: d.deleted ? t("restore") : t("remove"), onclick: () => {
        if (d.index === null) state.drivers.splice(state.drivers.indexOf(d), 1); else d.deleted = !d.deleted;
        if (state.current === d) { state.current = null; $("editor").hidden = true; }
        renderDrivers();
      } }));
  }));
}

$("add-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const name = $("new-name").value.trim();
  const type = $("new-type").value;
  if (!name || state.drivers.some((d) => d.driver.name === name)) return;
  const driver = { name, type };
  if (type === "opcua") Object.assign(driver, { endpointUrl: "opc.tcp://", securityPolicy: "None" });
  if (type === "modbus-tcp") Object.assign(driver, { host: "", port: 502, unitId: 1 });
  if (type === "modbus-rtu") Object.assign(driver, { serialPort: "/dev/ttyUSB0", baud: 19200, parity: "even", unitId: 1 });
  if (type === "s7") Object.assign(driver, { host: "", rack: 0, slot: 1 });
  driver.tags = [];
  const entry = { index: null, driver, original: "", deleted: false };
  state.drivers.push(entry);
  state.current = entry;
  $("new-name").value = "";
  renderDrivers();
  renderEditor();
});

// ---------- editor ----------
function renderEditor() {
  const d = state.current.driver;
  $("editor").hidden = false;
  $("editing").textContent = d.name + " (" + d.type + ")";
  $("fields").replaceChildren(...(FIELDS[d.type] || []).map(([key, kind]) => {
    let input;
    if (Array.isArray(kind)) {
      input = el("select", {}, ...kind.map((o) => el("option", { value: o, textContent: o || "—" })));
      input.value = d[key] ?? kind[0];
    } else {
      input = el("input", { type: kind });
      if (kind === "checkbox") input.checked = !!d[key]; else input.value = d[key] ?? "";
    }
    input.dataset.key = key;
    input.addEventListener("change", () => {
      const v = kind === "checkbox" ? input.checked : kind === "number" ? (input.value === "" ? undefined : Number(input.value)) : input.value;
      if (v === undefined || v === "" || v === false) delete d[key]; else d[key] = v;
      renderDrivers();
    });
    return el("label", {}, el("span", { textContent: t("f." + key) }), input);
  }));
  $("opcua-pane").hidden = d.type !== "opcua";
  $("modbus-pane").hidden = !d.type.startsWith("modbus");
  $("s7-pane").hidden = d.type !== "s7";
  renderTags();
}

function renderTags() {
  const d = state.current.driver;
  d.tags = d.tags || [];
  const cell = (tag, key, cls) => {
    const input = el("input", { value: tag[key] ?? "", className: cls || "", dataset: { key } });
    input.addEventListener("change", () => {
      const numeric = ["scale", "offset", "deadband"].includes(key);
      const v = numeric ? (input.value === "" ? undefined : Number(input.value)) : input.value;
      if (v === undefined || v === "") delete tag[key]; else tag[key] = v;
      renderDrivers();
    });
    return el("td", {}, input);
  };
  $("tags").replaceChildren(...d.tags.map((tag) => el("tr", { dataset: { tag: tag.name } },
    cell(tag, "name"), cell(tag, "path", "wide"), cell(tag, "address", "wide"), cell(tag, "type"), cell(tag, "unit"),
    cell(tag, "scale"), cell(tag, "offset"), cell(tag, "deadband"),
    el("td", {}, el("button", { type: "button", className: "remove-tag", textContent: t("removeTag"), onclick: () => { d.tags.splice(d.tags.indexOf(tag), 1); renderTags(); renderDrivers(); } })))));
}

function addTag(tag) {
  const d = state.current.driver;
  if (d.tags.some((x) => x.address === tag.address && (x.type ?? null) === (tag.type ?? null) && (x.order ?? null) === (tag.order ?? null))) return;
  let name = tag.name;
  for (let i = 2; d.tags.some((x) => x.name === name); i++) name = tag.name + "-" + i;
  tag.name = name;
  d.tags.push(tag);
  renderTags();
  renderDrivers();
}

// A UNS level from a browse name: "1:Temperature" -> "temperature" (as TagEmitter.Level does on the server).
function level(text) {
  const m = /^\d+:(.*)$/.exec(text);
  const s = (m ? m[1] : text).trim().toLowerCase().replace(/[^\p{L}\p{N}_.]/gu, "-").replace(/^-+|-+$/g, "");
  return s || "node";
}

// ---------- OPC UA ----------
async function expand(li, nodeId, levels) {
  const list = li.querySelector(":scope > ul") || li.appendChild(el("ul"));
  list.replaceChildren(el("li", { textContent: t("loading") }));
  const { status, data } = await api("/opcua/browse", { driver: state.current.driver, nodeId });
  if (status !== 200) { list.replaceChildren(); message(data.error); return; }
  message("");
  list.replaceChildren(...data.children.map((c) => node(c, levels)));
}

function node(c, levels) {
  const here = [...levels, level(c.browseName)];
  const li = el("li", { dataset: { node: c.nodeId, name: c.displayName.toLowerCase() } });
  if (c.hasChildren) {
    const button = el("button", { type: "button", className: "expand", textContent: "+", onclick: () => { button.disabled = true; expand(li, c.nodeId, here); } });
    li.append(button);
    li.append(el("input", { type: "checkbox", className: "pick-folder", title: t("folder"), onchange: async (e) => {
      if (!e.target.checked) return;
      const { status, data } = await api("/opcua/folder", { driver: state.current.driver, nodeId: c.nodeId });
      if (status !== 200) { message(data.error); return; }
      for (const tag of data.tags) addTag({ name: here.join(".") + "." + tag.name, path: here.join("/") + "/" + tag.path, address: tag.address, ...(tag.type ? { type: tag.type } : {}) });
    } }));
  } else {
    li.append(el("span", { className: "expand" }));
    if (c.nodeClass === "Variable") {
      li.append(el("input", { type: "checkbox", className: "pick", onchange: (e) => {
        if (e.target.checked) addTag({ name: here.join("."), path: here.join("/"), address: c.nodeId, ...(c.tagType ? { type: c.tagType } : {}) });
      } }));
    }
  }
  li.append(el("span", { className: "label", textContent: c.displayName }));
  if (c.nodeClass === "Variable") {
    li.append(el("span", { className: "meta", textContent: [c.dataType, c.access, c.value, c.status].filter((x) => x !== null && x !== undefined).join(" · ") }));
  }
  return li;
}

$("browse").addEventListener("click", () => {
  const tree = $("tree");
  tree.replaceChildren();
  const root = el("li", { dataset: { node: "i=85", name: "objects" } }, el("span", { className: "label", textContent: "Objects" }));
  tree.append(root);
  expand(root, "i=85", []);
});

$("search").addEventListener("input", () => {
  const q = $("search").value.trim().toLowerCase();
  const items = [...$("tree").querySelectorAll("li[data-node]")];
  for (const li of items) li.hidden = false;
  if (!q) return;
  for (const li of items.reverse()) {
    const match = (li.dataset.name || "").includes(q) || [...li.querySelectorAll("li[data-node]")].some((c) => !c.hidden);
    li.hidden = !match;
  }
});

// ---------- Modbus ----------
$("scan").addEventListener("click", async () => {
  const body = $("scan-table").tBodies[0];
  body.replaceChildren(el("tr", {}, el("td", { textContent: t("loading") })));
  const { status, data } = await api("/modbus/scan", { driver: state.current.driver, ranges: $("ranges").value });
  if (status !== 200) { body.replaceChildren(); message(data.error); return; }
  message("");
  const rows = [];
  for (const range of data.ranges) {
    rows.push(el("tr", {}, el("th", { colSpan: 11, textContent: `${range.table}:${range.first}-${range.last}` + (range.holes.length ? " — " + range.holes.map((h) => `${h.first}-${h.last}: ${h.reason}`).join(", ") : "") })));
    for (const r of range.rows) {
      const address = `${range.table}:${r.address}`;
      const pick = (label, type, order) => el("button", { type: "button", className: "pick", textContent: label, dataset: { type, order: order || "" }, onclick: (e) => {
        e.target.classList.add("picked");
        const base = `${range.table}-${r.address}`;
        addTag({ name: base, path: base, address, type, ...(order && order !== "ABCD" ? { order } : {}) });
      } });
      const cells = [el("td", { textContent: address })];
      if (range.bits) {
        cells.push(el("td", {}, pick(String(r.raw), "bool")));
      } else {
        cells.push(el("td", { textContent: r.hex }), el("td", {}, pick("u16 " + r.u16, "uint16")), el("td", {}, pick("i16 " + r.i16, "int16")));
        for (const o of ORDERS) cells.push(el("td", {}, r.f32 ? pick(`f32 ${o} ${r.f32[o]}`, "float32", o) : ""));
        for (const o of ORDERS) cells.push(el("td", {}, r.i32 ? pick(`i32 ${o} ${r.i32[o]}`, "int32", o) : ""));
      }
      rows.push(el("tr", { dataset: { address } }, ...cells));
    }
  }
  body.replaceChildren(...rows);
});

$("find-units").addEventListener("click", async () => {
  const out = $("unit-list");
  out.replaceChildren(t("loading"));
  const { status, data } = await api("/modbus/units", { driver: state.current.driver, units: $("units").value });
  if (status !== 200) { out.replaceChildren(); message(data.error); return; }
  message("");
  if (!data.units.length) { out.replaceChildren(el("span", { className: "none", textContent: t("noUnit") })); return; }
  // A click makes the unit the driver's unitId and scans it.
  out.replaceChildren(...data.units.map((u) => el("button", { type: "button", className: "unit", dataset: { unit: String(u.unit) },
    title: u.reason ? `exception ${u.exception} (${u.reason})` : `holding:0 = ${u.value}`, textContent: t("unitAnswers", { unit: u.unit }), onclick: () => {
      state.current.driver.unitId = u.unit;
      const field = document.querySelector("#fields input[data-key='unitId']");
      if (field) field.value = String(u.unit);
      renderDrivers();
      $("scan").click();
    } })));
});

// ---------- preview and save ----------
$("preview").addEventListener("click", async () => {
  const rows = $("preview-rows");
  $("preview-table").hidden = false;
  rows.replaceChildren(el("tr", {}, el("td", { textContent: t("loading") })));
  const { status, data } = await api("/preview", { driver: state.current.driver });
  if (status !== 200) {
    rows.replaceChildren(...(data.problems || [{ path: "", reason: data.error }]).map((p) => el("tr", { className: "problem" }, el("td", { colSpan: 5, textContent: (p.path ? p.path + ": " : "") + p.reason }))));
    return;
  }
  rows.replaceChildren(...data.samples.map((s) => el("tr", { dataset: { tag: s.tag } },
    el("td", { textContent: s.tag }),
    el("td", { className: "quality", textContent: s.quality ?? t("noSample") }),
    el("td", { textContent: s.timestamp ?? "" }),
    el("td", { className: "topic", textContent: [s.topic, s.metric ? `${s.metric} (${s.datatype})` : null].filter(Boolean).join(" · ") }),
    el("td", { className: "payload", textContent: s.payload ?? "" }))));
});

$("save").addEventListener("click", async () => {
  const out = $("save-result");
  out.replaceChildren(t("saving"));
  const drivers = state.drivers.filter((d) => !d.deleted).map((d) => ({ index: d.index, driver: d.driver }));
  const { status, data } = await api("/save", { hash: state.hash, drivers });
  if (data.result === "refused") {
    out.replaceChildren(el("p", { className: "refused", textContent: t("refused") }),
      el("ul", { className: "problems" }, ...data.problems.map((p) => el("li", { dataset: { path: p.path }, textContent: p.path + ": " + p.reason }))));
    return;
  }
  if (data.result === "conflict") { out.replaceChildren(el("p", { className: "refused", textContent: t("conflict") })); return; }
  if (data.result === "unchanged") { out.replaceChildren(el("p", { textContent: t("unchanged") })); return; }
  if (!data.result) { out.replaceChildren(el("p", { className: "refused", textContent: data.error || String(status) })); return; }
  const reload = data.reload || {};
  const list = (xs) => (xs && xs.length ? xs.join(", ") : t("none"));
  out.replaceChildren(
    el("p", { className: "saved", textContent: t("saved", { backup: data.backup || "—" }) }),
    el("ul", { className: "changes" }, ...data.changes.map((c) => el("li", { textContent: c }))),
    el("p", { className: "reload", dataset: { result: reload.result || "" }, textContent:
      `${reload.result}: ${t("restarted")} ${list(reload.restarted)} · ${t("addedDrivers")} ${list(reload.added)} · ${t("removedDrivers")} ${list(reload.removed)}` +
      (reload.restartRequired && reload.restartRequired.length ? ` · ${t("restartRequired")} ${list(reload.restartRequired)}` : "") +
      (reload.errors && reload.errors.length ? " · " + reload.errors.join("; ") : "") }));
  const keep = out.cloneNode(true);
  await load();
  $("save-result").replaceWith(keep);
});

for (const b of document.querySelectorAll(".lang button")) {
  b.addEventListener("click", () => {
    state.lang = b.dataset.lang;
    try { localStorage.setItem("gateway.lang", state.lang); } catch { /* private mode */ }
    applyLanguage();
  });
}

applyLanguage();
load();
