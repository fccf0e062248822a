// Corridor disruption notices: everyone reads (live), owners publish and close, forwarders re-book.
"use strict";

const $ = (id) => document.getElementById(id);
const { api, esc } = Corridor;
const state = { me: null, notices: new Map(), get lang() { return Corridor.lang(); } };
const when = (iso) => (iso ? Corridor.date(iso) : "until further notice");

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
      ? `<button type="button" class="small secondary" data-close="${esc(n.id)}" data-version="${n.version}">End now</button>` : "";
    return `<article class="notice ${esc(n.severity)} ${n.status === "closed" ? "closed" : ""}">
      <h3>${esc(n.kind.replace("_", " "))} <span class="badge">${esc(n.severity)}</span> ${n.status === "closed" ? "(ended)" : ""}</h3>
      <p>${esc(text(n))}</p>
      <p class="meta">${n.elements.map((e) => esc(`${e.kind}:${e.id}`)).join(", ")} · from ${esc(when(n.starts_at))} to ${esc(when(n.actual_end || n.expected_end))}
        · ${esc(n.issuer_name)} · version ${n.version}${n.capacity_factor != null ? ` · ${Math.round(n.capacity_factor * 100)} % capacity left` : ""}</p>
      ${actions}</article>`;
  }).join("");
  for (const button of document.querySelectorAll("[data-close]")) {
    button.addEventListener("click", async () => {
      if (!confirm("End this notice now? Its effects stop and it cannot be amended afterwards.")) return;
      button.disabled = true;
      try {
        const closed = await api(`/notices/${button.dataset.close}/close`, { method: "POST", body: JSON.stringify({ version: Number(button.dataset.version) }) });
        state.notices.set(closed.id, closed); render();
      } catch (err) { alert(err.message); button.disabled = false; }
    });
  }
}

function listen() {
  const source = new EventSource(`${Corridor.API}/notices/stream`);
  source.addEventListener("open", () => { $("live").textContent = "live"; });
  source.addEventListener("error", () => { $("live").textContent = "reconnecting"; });
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
      <p class="muted">${s.legs.map((l) => `leg ${l.leg + 1}: ${esc(l.reason)}`).join("<br>")}</p>
      ${s.alternatives.length ? `<table><thead><tr><th>Alternative</th><th class="num">Arrives</th><th class="num">Days</th><th class="num">USD</th><th></th></tr></thead><tbody>
      ${s.alternatives.map((a, i) => `<tr><td>${esc(a.corridors.join(", ") || a.legs.map((l) => l.to_name).slice(-2).join(" → "))}</td>
        <td class="num">${esc(when(a.arrival))}</td><td class="num">${a.transit_days.toFixed(1)}</td><td class="num">${Math.round(a.cost_usd).toLocaleString()}</td>
        <td><button type="button" class="small" data-rebook="${esc(s.shipment_id)}" data-option="${i}">Re-book on this</button></td></tr>`).join("")}</tbody></table>`
        : `<p class="muted">No way round the closure yet: the shipment waits for the reopening.</p>`}
    </div>`).join("") : `<p class="muted">None of your planned shipments is hit.</p>`;
  for (const button of document.querySelectorAll("[data-rebook]")) {
    button.addEventListener("click", async () => {
      if (!confirm("Book this alternative and cancel the original shipment?")) return;
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
    <rect x="170" y="${i * 22 + 3}" height="14" width="${(d / max) * 180}" fill="#b3261e"><title>${d} days</title></rect>
    <text x="${176 + (d / max) * 180}" y="${i * 22 + 14}" font-size="12">${d.toFixed(1)} d</text>`).join("");
  $("kpis").innerHTML = (rows.length ? `<svg viewBox="0 0 400 ${rows.length * 22 + 4}" width="100%" role="img" aria-label="Closed days per element">${svg}</svg>` : `<p class="muted">No closures this year.</p>`)
    + `<p class="muted">${k.notices} notice(s); ${k.shipments_affected} shipment(s), ${k.teu_affected} TEU hit.</p>`;
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
document.addEventListener("corridor:language", render);

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
