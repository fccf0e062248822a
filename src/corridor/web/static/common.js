// What every Corridor page shares: the API client, one login for all tabs, message catalogues,
// locale formatting, and buttons that cannot be pressed twice while their request runs.
"use strict";

const Corridor = (() => {
  const API = "/api/v1";
  const TOKEN = "corridor-token";
  const LANG = "corridor-lang";
  let catalogue = {};
  let fallback = {};
  let languages = { en: "English" };

  const esc = (text) => String(text ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

  // -- one login shared by every tab; logging out anywhere logs out everywhere ----------------
  const token = () => localStorage.getItem(TOKEN);
  const setToken = (value) => localStorage.setItem(TOKEN, value);
  const logoutHandlers = [];
  function clearToken() {
    localStorage.removeItem(TOKEN);
    sessionStorage.clear();
    for (const handler of logoutHandlers) handler();
  }
  window.addEventListener("storage", (ev) => {
    if (ev.key !== TOKEN) return;
    if (ev.newValue === null) for (const handler of logoutHandlers) handler();
    else if (ev.oldValue === null) location.reload();
  });

  // -- languages: catalogues are data (i18n/<code>.json, listed in i18n/index.json) ---------
  const lang = () => localStorage.getItem(LANG) || "en";
  function t(key, vars = {}) {
    const text = catalogue[key] ?? fallback[key] ?? key;
    return text.replace(/\{(\w+)\}/g, (_, name) => (vars[name] ?? `{${name}}`));
  }
  // A code the API sends (a mode, a state) in the chosen language, where the catalogue has it.
  function word(prefix, code) {
    const key = `${prefix}_${code}`;
    const text = t(key);
    return text === key ? String(code ?? "").replace(/_/g, " ") : text;
  }
  function translate(root = document) {
    for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
    for (const attr of ["placeholder", "title", "aria-label"]) {
      for (const el of root.querySelectorAll(`[data-i18n-${attr}]`)) el.setAttribute(attr, t(el.dataset[`i18n${attr.replace(/(^|-)(\w)/g, (_, __, c) => c.toUpperCase())}`]));
    }
  }
  async function setLanguage(code) {
    if (!languages[code]) code = "en";
    localStorage.setItem(LANG, code);
    catalogue = code === "en" ? fallback : await fetch(`/i18n/${code}.json`).then((r) => r.json());
    document.documentElement.lang = code;
    translate();
    document.dispatchEvent(new CustomEvent("corridor:language", { detail: code }));
  }
  async function initLanguage(select) {
    [languages, fallback] = await Promise.all([fetch("/i18n/index.json").then((r) => r.json()), fetch("/i18n/en.json").then((r) => r.json())]);
    if (select) {
      select.innerHTML = Object.entries(languages).map(([code, name]) => `<option value="${esc(code)}">${esc(name)}</option>`).join("");
      select.value = languages[lang()] ? lang() : "en";
      select.addEventListener("change", () => setLanguage(select.value));
    }
    await setLanguage(lang());
  }

  // -- formatting per locale (times are always UTC on the corridor) -------------------------
  const locale = () => (lang() === "en" ? "en-GB" : lang());
  const date = (iso) => (iso ? new Intl.DateTimeFormat(locale(), { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" }).format(new Date(iso)) + " UTC" : "-");
  const day = (iso) => (iso ? new Intl.DateTimeFormat(locale(), { dateStyle: "medium", timeZone: "UTC" }).format(new Date(iso)) : "-");
  const num = (x, digits = 0) => (x === null || x === undefined ? "-" : new Intl.NumberFormat(locale(), { maximumFractionDigits: digits, minimumFractionDigits: digits }).format(x));
  const money = (x, currency = "USD") => (x === null || x === undefined ? "-" : new Intl.NumberFormat(locale(), { style: "currency", currency, maximumFractionDigits: 0 }).format(x));

  // -- the API ------------------------------------------------------------------------------
  class ApiError extends Error {
    constructor(status, error) {
      super(error.field ? `${error.field}: ${error.reason}` : error.reason);
      this.status = status; this.code = error.code; this.field = error.field; this.reason = error.reason;
    }
  }
  async function api(path, options = {}) {
    const headers = { "Content-Type": "application/json", "Accept-Language": lang() };
    if (token()) headers.Authorization = `Bearer ${token()}`;
    const response = await fetch(API + path, { ...options, headers: { ...headers, ...(options.headers || {}) } });
    if (response.status === 204) return null;
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      if (response.status === 401 && path !== "/auth/login") clearToken();
      throw new ApiError(response.status, body.error || { reason: response.statusText });
    }
    return body;
  }

  // A button that runs a request: disabled and marked busy until it ends, so a double click is one.
  async function busy(button, work) {
    if (button.disabled) return undefined;
    button.disabled = true; button.setAttribute("aria-busy", "true");
    try { return await work(); } finally { button.disabled = false; button.removeAttribute("aria-busy"); }
  }

  return { API, api, ApiError, busy, clearToken, date, day, esc, initLanguage, lang, money, num, onLogout: (h) => logoutHandlers.push(h), setLanguage, setToken, t, token, translate, word };
})();
