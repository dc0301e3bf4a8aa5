"use strict";
// The commissioning page, part two (issue 16): the OPC UA server certificate ("trust this server certificate") and
// the S7 DB scan. Loaded after commission.js, whose helpers (state, api, el, t, message, addTag) it uses.

// ---------- OPC UA server certificate ----------
$("fetch-certificate").addEventListener("click", async () => {
  const out = $("certificates");
  out.replaceChildren(t("loading"));
  const { status, data } = await api("/opcua/certificate", { driver: state.current.driver });
  if (status !== 200) { out.replaceChildren(); message(data.error); return; }
  message("");
  if (!data.certificates.length) { out.replaceChildren(el("p", { textContent: t("noCertificate") })); return; }
  const day = (x) => String(x).slice(0, 10);
  out.replaceChildren(...data.certificates.map((c) => {
    const result = el("span", { className: "trust-result" });
    const button = el("button", { type: "button", className: "trust", textContent: t("trust"), disabled: c.trusted, onclick: async () => {
      button.disabled = true;
      const answer = await api("/opcua/trust", { driver: state.current.driver, thumbprint: c.thumbprint });
      if (answer.status !== 200) { button.disabled = false; message(answer.data.error); return; }
      message("");
      state.current.driver.trustServerCertificate = "trustList";
      result.textContent = t("trustedAs", { file: answer.data.trusted });
      card.dataset.trusted = "true";
      card.querySelector(".state").textContent = t("trusted");
    } });
    const dl = el("dl", {},
      el("dt", { textContent: t("subject") }), el("dd", { className: "subject", textContent: c.subject }),
      el("dt", { textContent: t("issuer") }), el("dd", { textContent: c.issuer }),
      el("dt", { textContent: t("thumbprint") }), el("dd", { className: "thumbprint", textContent: c.thumbprint.match(/.{2}/g).join(":") }),
      el("dt", { textContent: t("validity") }), el("dd", { className: "validity", textContent: `${day(c.notBefore)} → ${day(c.notAfter)}` }),
      el("dt", { textContent: t("appUri") }), el("dd", { textContent: c.applicationUri || "—" }),
      el("dt", { textContent: t("endpoints") }), el("dd", {}, el("ul", { className: "endpoints" }, ...c.endpoints.map((e) => el("li", { textContent: `${e.securityPolicy} / ${e.securityMode} (${e.securityLevel})` })))));
    const card = el("div", { className: "certificate", dataset: { thumbprint: c.thumbprint, trusted: String(c.trusted) } },
      el("p", {}, el("strong", { className: "state", textContent: c.trusted ? t("trusted") : t("notTrusted") })), dl, el("div", { className: "row" }, button, result));
    return card;
  }));
});

// ---------- S7 ----------
const S7_COLUMNS = ["byte", "word", "int", "dword", "dint", "real", "string"];
$("s7-scan").addEventListener("click", async () => {
  const body = $("s7-table").tBodies[0];
  body.replaceChildren(el("tr", {}, el("td", { textContent: t("loading") })));
  const number = (id) => ($(id).value === "" ? undefined : Number($(id).value));
  const { status, data } = await api("/s7/scan", { driver: state.current.driver, db: number("s7-db"), start: number("s7-start"), length: number("s7-length") });
  if (status !== 200) { body.replaceChildren(); message(data.error); return; }
  message("");
  const pick = (r, label) => el("button", { type: "button", className: "pick", textContent: label, dataset: { type: r.type, address: r.address }, onclick: (e) => {
    e.target.classList.add("picked");
    const base = r.address.toLowerCase().replaceAll(".", "-");
    addTag({ name: base, path: base, address: r.address, type: r.type });
  } });
  const rows = [el("tr", {}, el("th", { colSpan: 3 + S7_COLUMNS.length, textContent: `DB${data.db} ${data.start}-${data.start + data.length - 1} · PDU ${data.pduSize}` }))];
  for (const row of data.rows) {
    const bits = row.readings.filter((r) => r.type === "bool").reverse(); // bit 7 first, as the hex reads
    const cells = [el("td", { textContent: String(row.offset) }), el("td", { textContent: row.hex }),
      el("td", { className: "bits" }, ...bits.map((r) => pick(r, r.value === "true" ? "1" : "0")))];
    for (const type of S7_COLUMNS) {
      const r = row.readings.find((x) => x.type === type);
      cells.push(el("td", {}, r ? pick(r, type === "string" ? `STRING[${r.address.split(".").pop()}] "${r.value}"` : `${type.toUpperCase()} ${r.value}`) : ""));
    }
    rows.push(el("tr", { dataset: { offset: String(row.offset) } }, ...cells));
  }
  body.replaceChildren(...rows);
});

