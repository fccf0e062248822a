// Corridor administration: organisations, users (create, disable, enable), API tokens (issued once,
// revoked), webhooks, alert history and the signed customs log as the audit log.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const { api, busy, esc, t } = Corridor;
  const PAGE = 25;
  const state = { me: null, orgs: [], users: [], tokenUser: null, pages: [], before: null };

  function gate(text) {
    $("admin-view").hidden = true; $("admin-gate").hidden = false;
    $("gate-text").textContent = t(text);
  }
  Corridor.onLogout(() => { state.me = null; $("whoami").textContent = ""; for (const tb of document.querySelectorAll("#admin-view tbody")) tb.innerHTML = ""; gate("admin.login_first"); });

  async function start() {
    if (!Corridor.token()) { gate("admin.login_first"); return; }
    try { state.me = await api("/me"); } catch { gate("admin.login_first"); return; }
    $("whoami").textContent = `${state.me.name}, ${state.me.organisation}`;
    if (state.me.kind !== "admin") { gate("admin.not_admin"); return; }
    $("admin-gate").hidden = true; $("admin-view").hidden = false;
    await Promise.all([loadOrgs(), loadUsers(), loadHooks(), loadAlerts(), loadAudit(null)]);
  }

  // -- organisations ----------------------------------------------------------------------------
  async function loadOrgs() {
    state.orgs = await api("/admin/organisations");
    $("orgs-table").querySelector("tbody").innerHTML = state.orgs.map((o) => `<tr><td translate="no">${esc(o.name)}</td><td>${esc(Corridor.word("org.kind", o.kind))}</td><td>${esc(o.country || "-")}</td></tr>`).join("");
    const keep = $("user-org").value;
    $("user-org").innerHTML = state.orgs.map((o) => `<option value="${esc(o.id)}">${esc(o.name)} (${esc(Corridor.word("org.kind", o.kind))})</option>`).join("");
    if (keep) $("user-org").value = keep;
  }
  $("org-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    busy($("org-submit"), async () => {
      $("org-error").textContent = "";
      const country = $("org-country").value.trim().toUpperCase() || null;
      try {
        const org = await api("/admin/organisations", { method: "POST", body: JSON.stringify({ name: $("org-name").value.trim(), kind: $("org-kind").value, country }) });
        $("org-form").reset();
        await loadOrgs();
        $("user-org").value = org.id;
      } catch (e) { $("org-error").textContent = e.message; (e.field === "country" ? $("org-country") : $("org-name")).focus(); }
    });
  });

  // -- users ------------------------------------------------------------------------------------
  async function loadUsers() {
    state.users = await api("/admin/users");
    $("users-table").querySelector("tbody").innerHTML = state.users.map((u) => {
      const mine = u.id === state.me.id;
      const toggle = u.disabled
        ? `<button type="button" class="small secondary enable" data-id="${esc(u.id)}" aria-label="${esc(t("admin.enable_user", { email: u.email }))}">${t("admin.enable")}</button>`
        : mine ? "" : `<button type="button" class="small secondary disable" data-id="${esc(u.id)}" aria-label="${esc(t("admin.disable_user", { email: u.email }))}">${t("admin.disable")}</button>`;
      return `<tr class="${u.disabled ? "disabled-user" : ""}" data-email="${esc(u.email)}"><td translate="no">${esc(u.email)}</td><td translate="no">${esc(u.name)}</td><td translate="no">${esc(u.organisation)}</td>
        <td>${u.disabled ? t("admin.disabled") : t("admin.active")}</td>
        <td><button type="button" class="small tokens" data-id="${esc(u.id)}" aria-label="${esc(t("admin.tokens_user", { email: u.email }))}">${t("admin.tokens")}</button> ${toggle}</td></tr>`;
    }).join("");
    for (const el of document.querySelectorAll("#users-table button.disable")) {
      el.addEventListener("click", () => busy(el, () => standing(el.dataset.id, "disable")));
    }
    for (const el of document.querySelectorAll("#users-table button.enable")) {
      el.addEventListener("click", () => busy(el, () => standing(el.dataset.id, "enable")));
    }
    for (const el of document.querySelectorAll("#users-table button.tokens")) {
      el.addEventListener("click", () => busy(el, () => showTokens(el.dataset.id)));
    }
  }
  async function standing(id, action) {
    const user = state.users.find((u) => u.id === id);
    if (action === "disable" && !confirm(t("admin.confirm_disable", { email: user.email }))) return;
    $("users-error").textContent = "";
    try { await api(`/admin/users/${encodeURIComponent(id)}/${action}`, { method: "POST" }); await loadUsers(); if (state.tokenUser === id) await showTokens(id); }
    catch (e) { $("users-error").textContent = e.message; }
  }
  $("user-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    busy($("user-submit"), async () => {
      $("user-error").textContent = "";
      const body = { organisation_id: $("user-org").value, email: $("user-email").value.trim(), name: $("user-name").value.trim(), password: $("user-password").value };
      try {
        await api("/admin/users", { method: "POST", body: JSON.stringify(body) });
        $("user-email").value = ""; $("user-name").value = ""; $("user-password").value = "";
        await loadUsers();
      } catch (e) {
        $("user-error").textContent = e.message;
        const field = { email: "user-email", name: "user-name", password: "user-password", organisation_id: "user-org" }[e.field];
        if (field) $(field).focus();
      }
    });
  });

  // -- tokens: a new token's value is shown once, here, and never again --------------------------
  async function showTokens(id) {
    state.tokenUser = id;
    const user = state.users.find((u) => u.id === id);
    $("tokens-card").hidden = false; $("tokens-error").textContent = ""; $("token-once").hidden = true;
    $("tokens-user").textContent = user ? user.email : id;
    try {
      const rows = await api(`/admin/users/${encodeURIComponent(id)}/tokens`);
      $("tokens-table").querySelector("tbody").innerHTML = rows.map((r) => `<tr data-name="${esc(r.name)}"><td>${esc(r.name)}${r.current ? ` (${t("admin.this_session")})` : ""}</td><td>${Corridor.date(r.created_at)}</td>
        <td>${r.expires_at ? Corridor.date(r.expires_at) : t("admin.never")}</td><td>${r.revoked ? t("admin.revoked") : t("admin.active")}</td>
        <td>${r.revoked || r.current ? "" : `<button type="button" class="small secondary revoke" data-id="${esc(r.id)}" data-name="${esc(r.name)}" aria-label="${esc(t("admin.revoke_token", { name: r.name, created: Corridor.date(r.created_at) }))}">${t("admin.revoke")}</button>`}</td></tr>`).join("");
      for (const el of document.querySelectorAll("#tokens-table button.revoke")) {
        el.addEventListener("click", () => busy(el, async () => {
          if (!confirm(t("admin.confirm_revoke", { name: el.dataset.name }))) return;
          try { await api(`/auth/tokens/${encodeURIComponent(el.dataset.id)}/revoke`, { method: "POST" }); await showTokens(id); }
          catch (e) { $("tokens-error").textContent = e.message; }
        }));
      }
      $("tokens-title").focus();
    } catch (e) { $("tokens-error").textContent = e.message; }
  }
  $("token-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    busy($("token-submit"), async () => {
      $("tokens-error").textContent = ""; $("token-once").hidden = true;
      const days = $("token-days").value ? Number($("token-days").value) : null;
      try {
        const created = await api(`/admin/users/${encodeURIComponent(state.tokenUser)}/tokens`, { method: "POST", body: JSON.stringify({ name: $("token-name").value.trim(), ttl_days: days }) });
        await showTokens(state.tokenUser);
        $("token-once").hidden = false;
        $("token-once").innerHTML = `${esc(t("admin.token_once"))}<br><code id="token-value">${esc(created.token)}</code>`;
      } catch (e) { $("tokens-error").textContent = e.message; }
    });
  });

  // -- webhooks and alerts ------------------------------------------------------------------------
  async function loadHooks() {
    const hooks = await api("/webhooks");
    const orgName = (id) => (state.orgs.find((o) => o.id === id) || { name: id }).name;
    $("hooks-list").innerHTML = hooks.length ? hooks.map((h) => `<li><code>${esc(h.url)}</code> <span class="muted">${esc(orgName(h.organisation_id))}</span></li>`).join("") : `<li class="muted empty">${t("admin.no_hooks")}</li>`;
  }
  $("hook-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    busy($("hook-submit"), async () => {
      $("hooks-error").textContent = "";
      try { await api("/webhooks", { method: "POST", body: JSON.stringify({ url: $("hook-url").value.trim() }) }); $("hook-url").value = ""; await loadHooks(); }
      catch (e) { $("hooks-error").textContent = e.message; $("hook-url").focus(); }
    });
  });
  async function loadAlerts() {
    const rows = await api("/alerts");
    $("alerts-empty").hidden = rows.length > 0;
    $("alerts-table").querySelector("tbody").innerHTML = rows.slice(0, 100).map((a) => `<tr><td>${Corridor.date(a.created_at)}</td><td><a href="./#shipment/${encodeURIComponent(a.shipment_id)}">${esc(a.shipment_id.slice(0, 8))}</a></td>
      <td class="num">${Corridor.num(a.slip_h, 0)}</td><td>${esc(Corridor.word("shipment.alert", a.status))}${a.last_error ? `: <span translate="no">${esc(a.last_error)}</span>` : ""}</td></tr>`).join("");
  }

  // -- the audit log: the shared signed customs record, newest first, paged by seq -----------------
  async function loadAudit(before) {
    $("audit-error").textContent = "";
    try {
      const rows = await api(`/customs/log?limit=${PAGE}${before ? `&before_seq=${before}` : ""}`);
      state.before = before;
      $("audit-empty").hidden = rows.length > 0;
      $("audit-table").querySelector("tbody").innerHTML = rows.map((r) => `<tr><td class="num">${r.seq}</td><td>${Corridor.date(r.created_at)}</td><td><code>${esc(r.declaration_id.slice(0, 8))}</code></td>
        <td>${esc(t(`declaration.action_${r.action}`))}</td><td translate="no">${esc(r.office_id || "-")}</td><td translate="no">${esc(r.actor)}</td><td><code>${esc(r.key_id)}</code></td><td><code title="${esc(r.record_hash)}">${esc(r.record_hash.slice(0, 16))}…</code></td></tr>`).join("");
      $("audit-older").disabled = rows.length < PAGE;
      $("audit-older").dataset.before = rows.length ? String(rows[rows.length - 1].seq) : "";
      $("audit-newer").disabled = state.pages.length === 0;
    } catch (e) { $("audit-error").textContent = e.message; }
  }
  $("audit-older").addEventListener("click", () => busy($("audit-older"), async () => { state.pages.push(state.before); await loadAudit(Number($("audit-older").dataset.before)); }));
  $("audit-newer").addEventListener("click", () => busy($("audit-newer"), async () => { await loadAudit(state.pages.pop() ?? null); }));
  $("audit-verify").addEventListener("click", () => busy($("audit-verify"), async () => {
    $("audit-error").textContent = "";
    try {
      const report = await api("/customs/log/verify");
      $("audit-verify-result").textContent = report.ok
        ? t("customs.verify_ok", { records: Corridor.num(report.records), root: String(report.tree_root).slice(0, 16) })
        : t("customs.verify_bad", { seq: report.first_bad_record, reason: report.reason });
    } catch (e) { $("audit-error").textContent = e.message; }
  }));

  $("logout").addEventListener("click", async () => { try { await api("/auth/logout", { method: "POST" }); } catch { /* logged out anyway */ } finally { Corridor.clearToken(); } });
  document.addEventListener("corridor:language", () => { if (state.me && state.me.kind === "admin") { loadUsers(); loadAlerts(); if (state.tokenUser) showTokens(state.tokenUser); } });
  Corridor.initLanguage($("lang-select")).then(start);
})();
