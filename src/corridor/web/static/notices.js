// Corridor disruption notices: everyone reads (live), owners publish and close, forwarders re-book.
"use strict";

const $ = (id) => document.getElementById(id);
const { api, esc, t } = Corridor;
const state = { me: null, notices: new Map(), get lang() { return Corridor.lang(); } };
const when = (iso) => (iso ? Corridor.date(iso) : t("notices.until_further"));

function text(notice) { return notice.texts[state.lang] || notice.texts.en || Object.values(notice.texts)[0]; }

function render() {
  const showClosed = $("show-closed").checked;
  const list = [...state.notices.values()]
    .filter((n) => showClosed || n.status === "active")
    .sort((a, b) => b.updated_at.localeCompare(a.updated_at));
  $("notices-empty").hidden = list.length > 0;
  $("notices").innerHTML = list.map((n) => {
    const mine = state.me && (n.issuer_org === state.me.organisation_id || state.me.kind === "admin");
    const actions = mine && n.status === "active"
      ? `<button type="button" class="small secondary" data-close="${esc(n.id)}" data-version="${n.version}">${t("notices.end_now")}</button>` : "";
    return `<article class="notice ${esc(n.severity)} ${n.status === "closed" ? "closed" : ""}">
      <h3>${esc(t(`notices.kind_${n.kind}`))} <span class="badge">${esc(t(`notices.severity_${n.severity}`))}</span> ${n.status === "closed" ? t("notices.ended") : ""}</h3>
      <p>${esc(text(n))}</p>
      <p class="meta">${n.elements.map((e) => esc(`${e.kind}:${e.id}`)).join(", ")} · ${esc(t("notices.period", { from: when(n.starts_at), until: when(n.actual_end || n.expected_end) }))}
        · ${esc(n.issuer_name)} · ${t("notices.version", { n: n.version })}${n.capacity_factor != null ? ` · ${t("notices.capacity_left", { share: Corridor.num(n.capacity_factor * 100, 0) })}` : ""}</p>
      ${actions}</article>`;
  }).join("");
  for (const button of document.querySelectorAll("[data-close]")) {
    button.addEventListener("click", async () => {
      if (!confirm(t("notices.confirm_end"))) return;
      button.disabled = true;
      try {
        const closed = await api(`/notices/${button.dataset.close}/close`, { method: "POST", body: JSON.stringify({ version: Number(button.dataset.version) }) });
        state.notices.set(closed.id, closed); render();
      } catch (err) { alert(err.message); button.disabled = false; }
    });
  }
}

// The stream's state, kept as a catalogue key so that a change of language rewords it.
function live(key) { state.live = key; $("live").textContent = t(key); }

function listen() {
  const source = new EventSource(`${Corridor.API}/notices/stream`);
  source.addEventListener("open", () => { live("notices.live"); });
  source.addEventListener("error", () => { live("notices.reconnecting"); });
  source.addEventListener("notice", (ev) => {
    const notice = JSON.parse(ev.data);
    state.notices.set(notice.id, notice); render();
    if (state.me) { loadAffected(); loadKpis(); }
  });
}

async function loadAffected() {
  if (!state.me || !["forwarder", "admin"].includes(state.me.kind)) return;
  $("affected-card").hidden = false;
  const hit = await api("/notices/affected/shipments");
  $("affected").innerHTML = hit.length ? hit.map((s) => `<div class="option">
      <h3>${esc(s.reference)}</h3>
      <p class="muted">${s.legs.map((l) => `${t("notices.leg", { n: l.leg + 1 })}: ${esc(l.reason)}`).join("<br>")}</p>
      ${s.alternatives.length ? `<table><thead><tr><th>${t("notices.alternative")}</th><th class="num">${t("notices.arrives")}</th><th class="num">${t("notices.days")}</th><th class="num">USD</th><th></th></tr></thead><tbody>
      ${s.alternatives.map((a, i) => `<tr><td>${esc(a.corridors.join(", ") || a.legs.map((l) => l.to_name).slice(-2).join(" → "))}</td>
        <td class="num">${esc(when(a.arrival))}</td><td class="num">${Corridor.num(a.transit_days, 1)}</td><td class="num">${Corridor.num(a.cost_usd, 0)}</td>
        <td><button type="button" class="small" data-rebook="${esc(s.shipment_id)}" data-option="${i}">${t("notices.rebook")}</button></td></tr>`).join("")}</tbody></table>`
        : `<p class="muted">${t("notices.no_way_round")}</p>`}
    </div>`).join("") : `<p class="muted">${t("notices.none_hit")}</p>`;
  for (const button of document.querySelectorAll("[data-rebook]")) {
    button.addEventListener("click", async () => {
      if (!confirm(t("notices.confirm_rebook"))) return;
      button.disabled = true;
      try {
        await api(`/notices/affected/shipments/${button.dataset.rebook}/rebook`, { method: "POST", body: JSON.stringify({ option: Number(button.dataset.option) }) });
        loadAffected();
      } catch (err) { $("affected-error").textContent = err.message; button.disabled = false; }
    });
  }
}

async function loadKpis() {
  if (!state.me) return;
  const k = await api(`/notices/kpis/${new Date().getUTCFullYear()}`);
  $("kpi-card").hidden = false;
  const rows = Object.entries(k.closed_days);
  const max = Math.max(1, ...rows.map(([, d]) => d));
  const svg = rows.map(([el, d], i) => `<text x="0" y="${i * 22 + 14}" font-size="12">${esc(el)}</text>
    <rect x="170" y="${i * 22 + 3}" height="14" width="${(d / max) * 180}" fill="#b3261e"><title>${esc(t("notices.days_n", { n: Corridor.num(d, 1) }))}</title></rect>
    <text x="${176 + (d / max) * 180}" y="${i * 22 + 14}" font-size="12">${esc(t("notices.days_short", { n: Corridor.num(d, 1) }))}</text>`).join("");
  $("kpis").innerHTML = (rows.length ? `<svg viewBox="0 0 400 ${rows.length * 22 + 4}" width="100%" role="img" aria-label="${esc(t("notices.kpi_chart"))}">${svg}</svg>` : `<p class="muted">${t("notices.no_closures")}</p>`)
    + `<p class="muted">${t("notices.kpi_summary", { notices: k.notices, shipments: k.shipments_affected, teu: k.teu_affected })}</p>`;
}

$("publish-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const button = $("p-submit");
  button.disabled = true; $("publish-error").textContent = "";
  const texts = { en: $("p-text-en").value };
  if ($("p-text-ru").value.trim()) texts.ru = $("p-text-ru").value;
  const body = {
    kind: $("p-kind").value, severity: $("p-severity").value, texts,
    elements: $("p-elements").value.split(",").map((s) => s.trim()).filter(Boolean).map((s) => ({ kind: s.split(":")[0], id: s.split(":").slice(1).join(":") })),
    starts_at: $("p-from").value ? `${$("p-from").value}:00Z` : null,
    expected_end: $("p-until").value ? `${$("p-until").value}:00Z` : null,
  };
  if ($("p-capacity").value !== "") body.capacity_factor = Number($("p-capacity").value);
  try {
    const notice = await api("/notices", { method: "POST", body: JSON.stringify(body) });
    state.notices.set(notice.id, notice); render(); ev.target.reset();
  } catch (err) { $("publish-error").textContent = err.message; }
  finally { button.disabled = false; }
});
$("show-closed").addEventListener("change", render);
document.addEventListener("corridor:language", () => { render(); live(state.live || "notices.connecting"); });

(async function start() {
  await Corridor.initLanguage($("lang"));
  for (const n of await api("/notices")) state.notices.set(n.id, n);
  render();
  listen();
  if (!Corridor.token()) return;
  try { state.me = await api("/me"); } catch { return; }
  $("publish-card").hidden = !["carrier", "customs", "admin"].includes(state.me.kind);
  render(); loadAffected(); loadKpis();
})();
