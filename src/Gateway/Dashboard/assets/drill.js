// The trainer's outage drill on the buffer card: a button that cuts the north link for 60 s
// (POST /api/drill/outage, behind the dashboard's login) and the drill's countdown, read from /api/drill.
"use strict";
(() => {
  const SECONDS = 60;
  const text = {
    en: { start: "Outage drill (" + SECONDS + " s)", end: "End drill", cut: "Outage drill: north link cut, {s} s left",
      plc: "PLC drill: {m} silent, {s} s left", refused: "Drill refused: {m}", hint: "Cuts the link to the broker on purpose: watch the buffer fill, then drain." },
    fr: { start: "Exercice de coupure (" + SECONDS + " s)", end: "Arrêter l’exercice", cut: "Exercice : liaison coupée, encore {s} s",
      plc: "Exercice automate : {m} muet, encore {s} s", refused: "Exercice refusé : {m}", hint: "Coupe volontairement la liaison au broker : le tampon se remplit, puis se vide." },
  };
  const lang = () => (document.documentElement.lang === "fr" ? "fr" : "en");
  const say = (key, args) => text[lang()][key].replace(/\{(\w)\}/g, (_, k) => (args && args[k] != null ? args[k] : ""));

  const card = document.getElementById("health-buffer");
  if (!card) return;
  const panel = document.createElement("div");
  panel.className = "drill";
  panel.id = "drill";
  const button = document.createElement("button");
  button.type = "button";
  button.id = "drill-outage";
  button.className = "ghost drill-button";
  const status = document.createElement("div");
  status.id = "drill-status";
  status.className = "drill-status";
  status.setAttribute("role", "status");
  status.setAttribute("aria-live", "polite");
  panel.append(button, status);
  card.append(panel);

  let state = null;
  let refused = null;
  let timer = null;

  function render() {
    const outage = state && state.outage;
    button.textContent = outage ? say("end") : say("start");
    button.title = say("hint");
    button.dataset.running = outage ? "true" : "false";
    const lines = [];
    if (outage) lines.push(say("cut", { s: Math.ceil(outage.secondsLeft) }));
    for (const p of (state && state.plc) || []) lines.push(say("plc", { m: p.machine, s: Math.ceil(p.secondsLeft) }));
    if (refused) lines.push(say("refused", { m: refused }));
    status.textContent = lines.join(" · ");
    panel.classList.toggle("running", !!outage);
  }

  async function poll() {
    try {
      const r = await fetch("/api/drill", { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (r.ok) state = await r.json();
    } catch (e) {
      // The gateway restarts or the network blinks: the next poll tries again.
    }
    render();
    clearTimeout(timer);
    const busy = state && (state.outage || (state.plc && state.plc.length));
    timer = setTimeout(poll, busy ? 1000 : 5000);
  }

  button.addEventListener("click", async () => {
    const running = state && state.outage;
    const path = running ? "/api/drill/outage/end" : "/api/drill/outage?seconds=" + SECONDS;
    button.disabled = true;
    try {
      const r = await fetch(path, { method: "POST", credentials: "same-origin", headers: { Accept: "application/json" } });
      const body = await r.json().catch(() => null);
      refused = r.ok ? null : (body && body.message) || String(r.status);
      if (body && body.drill) state = body.drill;
    } catch (e) {
      refused = String(e);
    }
    button.disabled = false;
    render();
    poll();
  });

  // The language buttons re-render the page: follow them.
  for (const b of document.querySelectorAll(".lang button")) b.addEventListener("click", () => setTimeout(render, 0));
  poll();
})();
