// The login page: language (same choice as the dashboard), the error from the query string, the page to return to.
"use strict";
const TEXT = {
  en: { title: "Line dashboard", password: "Password", signIn: "Sign in", password_error: "Wrong password.", locked_error: "Too many failed attempts: wait a minute and try again." },
  fr: { title: "Tableau de bord de la ligne", password: "Mot de passe", signIn: "Se connecter", password_error: "Mot de passe incorrect.", locked_error: "Trop d'échecs : attendez une minute avant de réessayer." },
};
function storedLanguage() {
  try { return localStorage.getItem("gateway.lang"); } catch { return null; }
}
let lang = storedLanguage() || ((navigator.language || "en").toLowerCase().startsWith("fr") ? "fr" : "en");
if (!TEXT[lang]) lang = "en";
const query = new URLSearchParams(location.search);
document.getElementById("next").value = query.get("next") || "/";
function apply() {
  document.documentElement.lang = lang;
  document.title = TEXT[lang].title;
  for (const e of document.querySelectorAll("[data-i18n]")) e.textContent = TEXT[lang][e.dataset.i18n];
  for (const b of document.querySelectorAll(".lang button")) b.setAttribute("aria-pressed", String(b.dataset.lang === lang));
  const error = query.get("error");
  const box = document.getElementById("error");
  box.hidden = !error;
  if (error) box.textContent = TEXT[lang][(error === "locked" ? "locked" : "password") + "_error"];
}
for (const b of document.querySelectorAll(".lang button")) {
  b.addEventListener("click", () => {
    lang = b.dataset.lang;
    try { localStorage.setItem("gateway.lang", lang); } catch { /* private mode */ }
    apply();
  });
}
apply();
