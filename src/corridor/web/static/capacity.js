// Corridor capacity page: free capacity, holds, carriers' confirmations, dispatch board, e-queue.
"use strict";

const API = "/api/v1";
const cap = { token: localStorage.getItem("corridor-token"), me: null, chosen: null, lastEvent: 0, source: null, reload: null };
const $ = (id) => document.getElementById(id);
const { esc, t } = Corridor;
const fmt = (iso) => (iso ? Corridor.date(iso) : "-");
// Words the API sends as codes (states, units, bases), in the page's language where catalogued.
const word = (prefix, code) => { const key = `${prefix}_${code}`; const text = t(key); return text === key ? String(code).replace(/_/g, " ") : text; };

async function call(path, options = {}) {
  const headers = { "Content-Type": "application/json", "Accept-Language": Corridor.lang() };
  if (cap.token) headers.Authorization = `Bearer ${cap.token}`;
  const response = await fetch(API + path, { ...options, headers });
  const type = response.headers.get("content-type") || "";
  const body = type.includes("json") ? await response.json().catch(() => ({})) : await response.text();
  if (!response.ok) {
    const err = (body && body.error) || { reason: response.statusText };
    if (response.status === 401 && path !== "/auth/login") logout();
    const e = new Error(err.field ? `${err.field}: ${err.reason}` : err.reason);
    e.detail = err;
    throw e;
  }
  return body;
}

function logout() {
  cap.token = null; cap.me = null;
  localStorage.removeItem("corridor-token");
  if (cap.source) { cap.source.close(); cap.source = null; }
  $("cap-main").hidden = true; $("cap-login-view").hidden = false;
}

async function start() {
  if (!cap.token) { $("cap-login-view").hidden = false; return; }
  try { cap.me = await call("/me"); } catch { return; }
  $("cap-login-view").hidden = true; $("cap-main").hidden = false;
  $("whoami").textContent = `${cap.me.name}, ${cap.me.organisation} (${word("org.kind", cap.me.kind)})`;
  const tomorrow = new Date(Date.now() + 86400000).toISOString().slice(0, 10);
  $("it-ready").value = tomorrow; $("q-date").value = tomorrow;
  $("bookings-scope").textContent = ["forwarder", "carrier", "admin"].includes(cap.me.kind) ? t(`cap.scope_${cap.me.kind}`) : "";
  await Promise.all([loadSailings(), loadBookings(), loadBoard(), loadCheckpoints()]);
  listen();
}

function bar(row) {
  const held = 100 * row.held / row.capacity, conf = 100 * row.confirmed / row.capacity;
  return `<div class="bar" title="${esc(t("cap.bar", { confirmed: row.confirmed, held: row.held, capacity: row.capacity }))}"><i class="held" style="width:${Math.min(100, held + conf)}%"></i><i style="width:${Math.min(100, conf)}%"></i></div>`;
}

async function loadSailings() {
  const rows = await call(`/capacity/sailings?from_node=${$("sail-from").value}&to_node=${$("sail-to").value}&days=14`);
  $("sailings-table").tBodies[0].innerHTML = rows.slice(0, 20).map((r, i) => {
    const expected = r.expected_departure && r.expected_departure.estimate
      ? `<div class="estimate">${esc(t("cap.expected", { when: fmt(r.expected_departure.departure), basis: word("cap.basis", r.expected_departure.basis) }))}</div>` : "";
    const book = cap.me.kind === "forwarder" || cap.me.kind === "admin" ? `<button class="small" data-i="${i}" aria-label="${esc(t("cap.book_sailing", { service: r.service, when: fmt(r.departure) }))}">${t("cap.book")}</button>` : "";
    return `<tr><td>${fmt(r.departure)}${expected}</td><td>${esc(r.service)}<div class="muted">${esc(r.vessel || r.operator)}</div></td>
      <td class="num">${r.free} / ${r.capacity} ${esc(word("cap.unit", r.unit))}${r.waitlisted ? `<div class="muted">${esc(t("cap.waitlisted", { n: r.waitlisted }))}</div>` : ""}</td><td>${bar(r)}</td><td>${book}</td></tr>`;
  }).join("") || `<tr><td colspan="5" class="muted">${t("cap.no_departures")}</td></tr>`;
  cap.sailings = rows;
}

$("sailings-table").addEventListener("click", (ev) => {
  const button = ev.target.closest("button[data-i]");
  if (!button) return;
  cap.chosen = cap.sailings[Number(button.dataset.i)];
  $("book-title").textContent = t("cap.book_title", { service: cap.chosen.service, when: fmt(cap.chosen.departure), free: cap.chosen.free, unit: word("cap.unit", cap.chosen.unit) });
  $("book-form").hidden = false; $("book-error").textContent = "";
});

$("book-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  $("book-error").textContent = "";
  try {
    const row = await call("/capacity/bookings", { method: "POST", body: JSON.stringify({
      service: cap.chosen.service, from_node: cap.chosen.from_node, departure: cap.chosen.departure,
      cargo: $("book-cargo").value, items: Number($("book-items").value), waitlist: $("book-waitlist").checked,
    }) });
    $("book-error").innerHTML = `<span class="ok">${esc(word("cap.state", row.state))}</span>: ${esc(t("cap.booked", { units: row.units, unit: word("cap.unit", row.unit), id: row.id }))}`;
    await Promise.all([loadSailings(), loadBookings()]);
  } catch (e) {
    const alts = (e.detail && e.detail.next_sailings) || [];
    $("book-error").innerHTML = esc(e.message) + (alts.length ? `<br>${t("cap.next_with_room")} ` + alts.map((a) => `${fmt(a.departure)} (${a.free} ${esc(word("cap.unit", a.unit))})`).join(", ") : "");
  }
});
$("sail-from").addEventListener("change", loadSailings);
$("sail-to").addEventListener("change", loadSailings);

$("itinerary-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  $("it-error").textContent = ""; $("it-result").textContent = t("cap.planning");
  const via = $("it-via").value.split(",").map((v) => v.trim()).filter(Boolean);
  try {
    const answer = await call("/capacity/itineraries", { method: "POST", body: JSON.stringify({
      reference: $("it-ref").value, option: 0,
      route: { origin: $("it-from").value, destination: $("it-to").value, ready: `${$("it-ready").value}T08:00:00Z`, containers: Number($("it-containers").value), via, best: "time" },
    }) });
    const legs = answer.shipment.itinerary.legs.map((l) => `<li>${esc(word("mode", l.mode))} ${esc(l.from_name)} &rarr; ${esc(l.to_name)}, ${fmt(l.departure)}${l.service ? ` (${esc(l.service)})` : ""}</li>`).join("");
    const held = answer.bookings.map((b) => `<li><span class="badge">${esc(word("cap.state", b.state))}</span> ${esc(b.service)} ${fmt(b.departure)}: ${esc(t("cap.held_until", { units: b.units, unit: word("cap.unit", b.unit), until: fmt(b.expires_at) }))}</li>`).join("");
    const skipped = answer.skipped_full.map((x) => `<li>${esc(x.service)} ${fmt(x.departure)}: ${esc(x.reason)}</li>`).join("");
    $("it-result").innerHTML = `<p>${esc(t("cap.shipment_arrives", { id: answer.shipment.id, when: fmt(answer.shipment.arrival_at) }))}</p><ul class="legs">${legs}</ul><h4>${t("cap.capacity_held")}</h4><ul class="legs">${held || `<li>${t("cap.no_managed_leg")}</li>`}</ul>`
      + (skipped ? `<h4>${t("cap.skipped")}</h4><ul class="legs">${skipped}</ul>` : "");
    await Promise.all([loadSailings(), loadBookings()]);
  } catch (e) {
    $("it-result").innerHTML = "";
    const alts = (e.detail && e.detail.next_sailings) || [];
    $("it-error").innerHTML = esc(e.message) + (alts.length ? `<br>${t("cap.next_with_room")} ` + alts.map((a) => `${esc(a.service)} ${fmt(a.departure)}`).join(", ") : "") + `<br>${t("cap.nothing_booked")}`;
  }
});

async function loadBookings() {
  const rows = await call("/capacity/bookings");
  $("bookings-table").tBodies[0].innerHTML = rows.map((b) => {
    let actions = "";
    if ((cap.me.kind === "carrier" || cap.me.kind === "admin") && b.state === "held") actions += `<button class="small" data-act="confirm" data-id="${esc(b.id)}" aria-label="${esc(t("cap.confirm_id", { id: b.id }))}">${t("cap.confirm")}</button>`;
    if ((cap.me.kind === "carrier" || cap.me.kind === "admin") && ["held", "confirmed", "waitlisted"].includes(b.state)) actions += `<button class="small secondary" data-act="decline" data-id="${esc(b.id)}" aria-label="${esc(t("cap.decline_id", { id: b.id }))}">${t("cap.decline")}</button>`;
    if ((cap.me.kind === "forwarder" || cap.me.kind === "admin") && ["held", "confirmed", "waitlisted"].includes(b.state)) actions += `<button class="small secondary" data-act="cancel" data-id="${esc(b.id)}" aria-label="${esc(t("cap.cancel_id", { id: b.id }))}">${t("cap.cancel")}</button>`;
    return `<tr><td>${esc(b.id)}</td><td>${esc(b.service)}<div class="muted">${esc(b.from_node)} &rarr; ${esc(b.to_node)}</div></td><td>${fmt(b.departure)}</td>
      <td class="num">${b.units} ${esc(word("cap.unit", b.unit))}</td><td><span class="badge">${esc(word("cap.state", b.state))}</span></td><td>${fmt(b.expires_at)}</td><td>${actions}</td></tr>`;
  }).join("") || `<tr><td colspan="7" class="muted">${t("cap.no_bookings")}</td></tr>`;
}

$("bookings-table").addEventListener("click", async (ev) => {
  const button = ev.target.closest("button[data-act]");
  if (!button) return;
  $("bookings-error").textContent = "";
  try {
    await call(`/capacity/bookings/${button.dataset.id}/${button.dataset.act}`, { method: "POST", body: "{}" });
    await Promise.all([loadBookings(), loadSailings()]);
  } catch (e) { $("bookings-error").textContent = e.message; }
});

function heatColour(value) {
  if (value === null) return "#f3f6f8";
  const v = Math.max(0, Math.min(1, value));
  const r = Math.round(230 - 60 * v + 25 * v), g = Math.round(244 - 180 * v), b = Math.round(248 - 210 * v);
  return `rgb(${r},${g},${b})`;
}

function drawWaiting(history) {
  const svg = $("waiting-chart"), w = 760, h = 220, pad = 34;
  const ports = Object.keys(history[0]?.waiting || {});
  const max = Math.max(1, ...history.flatMap((p) => Object.values(p.waiting)));
  const x = (i) => pad + (w - 2 * pad) * i / Math.max(1, history.length - 1);
  const y = (v) => h - pad - (h - 2 * pad) * v / max;
  const colours = ["#0b6e8a", "#b3261e", "#c49000", "#2e7d32", "#6a1b9a", "#5d4037", "#37474f"];
  let out = `<line x1="${pad}" y1="${h - pad}" x2="${w - pad}" y2="${h - pad}" stroke="#999"/><line x1="${pad}" y1="${pad}" x2="${pad}" y2="${h - pad}" stroke="#999"/>`;
  out += `<text x="4" y="${pad}" font-size="11">${max}</text><text x="4" y="${h - pad}" font-size="11">0</text>`;
  history.forEach((p, i) => { if (i % 2 === 0) out += `<text x="${x(i) - 14}" y="${h - 12}" font-size="10">${esc(p.day.slice(5))}</text>`; });
  ports.forEach((port, k) => {
    const points = history.map((p, i) => `${x(i)},${y(p.waiting[port] || 0)}`).join(" ");
    out += `<polyline fill="none" stroke="${colours[k % colours.length]}" stroke-width="2" points="${points}"><title>${esc(port)}</title></polyline>`;
    out += `<text x="${w - pad - 110}" y="${pad + 12 * k}" font-size="11" fill="${colours[k % colours.length]}">${esc(port)}</text>`;
  });
  svg.innerHTML = out;
}

// Disruption notices in force, on the board: what is closed or reduced, and which lines they hit.
async function loadBoardNotices(rows) {
  const notices = await call("/notices?status=active").catch(() => []);
  const hits = (n) => rows.filter((r) => n.elements.some((e) => r.includes(e.id)));
  $("board-notices").innerHTML = notices.map((n) => {
    const lines = hits(n);
    const what = n.elements.map((e) => `${e.kind}:${e.id}`).join(", ");
    const until = n.actual_end || n.expected_end ? fmt(n.actual_end || n.expected_end) : t("notices.until_further");
    return `<div class="alert notice-${esc(n.kind)}"><strong>${esc(t(`notices.kind_${n.kind}`))} (${esc(t(`notices.severity_${n.severity}`))})</strong>: ${esc(what)} · ${esc(t("notices.period", { from: fmt(n.starts_at), until }))} · ${esc(n.texts[Corridor.lang()] || n.texts.en || Object.values(n.texts)[0])}${lines.length ? ` · ${esc(t("cap.lines_hit", { lines: lines.join(", ") }))}` : ""} <a href="notices.html">${t("cap.notices_link")}</a></div>`;
  }).join("");
}

async function loadBoard() {
  const board = await call("/capacity/board?days=14");
  loadBoardNotices(board.heat_map.rows);
  cap.lastEvent = Math.max(cap.lastEvent, board.last_event);
  $("alerts").innerHTML = board.alerts.map((a) => `<div class="alert">${esc(a.days_of_capacity === null
    ? t("cap.alert_no_ferry", { port: a.port, waiting: a.waiting, threshold: a.threshold_days })
    : t("cap.alert", { port: a.port, waiting: a.waiting, days: Corridor.num(a.days_of_capacity, 1), threshold: a.threshold_days }))}</div>`).join("");
  const hm = board.heat_map;
  const ferries = hm.rows.map((r, i) => [r, i]).filter(([r]) => /ferry|feeder|alat|aktau|kuryk|turkmenbashi|^x-/.test(r));
  let html = `<tr><th></th>${hm.days.map((d) => `<th class="day">${esc(d.slice(5))}</th>`).join("")}</tr>`;
  for (const [name, i] of ferries) {
    html += `<tr><th>${esc(name)}</th>${hm.cells[i].map((v) => `<td style="background:${heatColour(v)}" title="${v === null ? esc(t("cap.no_departure")) : Math.round(v * 100) + " %"}">${v === null ? "" : Math.round(v * 100)}</td>`).join("")}</tr>`;
  }
  $("heat").innerHTML = html;
  drawWaiting(board.waiting_history);
  $("ports-table").tBodies[0].innerHTML = Object.keys(board.waiting).map((p) => {
    const per = board.daily_ferry_capacity[p] || 0;
    return `<tr><td>${esc(p)}</td><td class="num">${board.waiting[p]}</td><td class="num">${Corridor.num(per, 1)}</td><td class="num">${per ? Corridor.num(board.waiting[p] / per, 1) : "-"}</td></tr>`;
  }).join("");
}

// The stream's state as a catalogue key, so that a change of language rewords it.
function liveState(key) { cap.live = key; $("live").textContent = t(key); }

function listen() {
  if (!window.EventSource || cap.source) return;
  const url = `${API}/capacity/stream?after=${cap.lastEvent}&access_token=${encodeURIComponent(cap.token)}`;
  cap.source = new EventSource(url);
  cap.source.onopen = () => liveState("cap.live_on");
  cap.source.onerror = () => liveState("cap.live_reconnecting");
  const refresh = (ev) => {
    cap.lastEvent = Math.max(cap.lastEvent, Number(ev.lastEventId) || 0);
    clearTimeout(cap.reload);
    cap.reload = setTimeout(() => { loadSailings(); loadBookings(); loadBoard(); }, 400);
  };
  for (const kind of ["held", "confirmed", "declined", "cancelled", "moved", "expired", "promoted"]) cap.source.addEventListener(kind, refresh);
}

async function loadCheckpoints() {
  const rows = await call("/queue/checkpoints");
  $("q-checkpoint").innerHTML = rows.map((c) => `<option value="${esc(c.crossing)}">${esc(t("cap.checkpoint_option", { name: c.name, n: c.trucks_per_hour }))}</option>`).join("");
}

$("queue-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  $("q-error").textContent = ""; $("ticket").innerHTML = "";
  try {
    const ticket = await call("/queue/tickets", { method: "POST", body: JSON.stringify({
      checkpoint: $("q-checkpoint").value, date: $("q-date").value, hour: Number($("q-hour").value),
      plate: $("q-plate").value, driver: $("q-driver").value, transit_declaration: $("q-decl").value || null, tier: $("q-tier").value,
    }) });
    const svg = await call(`/queue/tickets/${ticket.id}/qr.svg`);
    $("ticket").innerHTML = `<p><b>${esc(ticket.plate)}</b> ${esc(t("cap.ticket_at", { checkpoint: ticket.checkpoint, when: fmt(ticket.starts_at), mci: ticket.fee_mci, kzt: Corridor.num(ticket.fee_kzt_2025, 0) }))}</p><div class="qr">${svg}</div><div class="token" id="ticket-token">${esc(ticket.token)}</div>`;
    $("v-ticket").value = ticket.token;
  } catch (e) {
    const hours = (e.detail && e.detail.next_hours) || [];
    $("q-error").textContent = e.message + (hours.length ? `; ${t("cap.next_free", { hours: hours.map(fmt).join(", ") })}` : "");
  }
});

$("verify-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  try {
    const v = await call("/queue/verify", { method: "POST", body: JSON.stringify({ ticket: $("v-ticket").value.trim() }) });
    $("verify-result").innerHTML = `<p class="ok">${t("cap.valid")}</p><p>${esc(t("cap.valid_detail", { plate: v.plate, driver: v.driver, checkpoint: v.checkpoint, when: fmt(v.slot_start), tier: word("cap.tier", v.tier) }))}</p>`;
  } catch (e) {
    $("verify-result").innerHTML = `<p class="error">${t("cap.not_valid")}: ${esc(e.message)}</p>`;
  }
});

$("cap-login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  $("cap-login-error").textContent = "";
  try {
    const answer = await call("/auth/login", { method: "POST", body: JSON.stringify({ email: $("cap-email").value, password: $("cap-password").value }) });
    cap.token = answer.token;
    localStorage.setItem("corridor-token", answer.token);
    await start();
  } catch (e) { $("cap-login-error").textContent = e.message; }
});
$("logout").addEventListener("click", logout);

document.addEventListener("corridor:language", () => {
  $("live").textContent = t(cap.live || "cap.live_off");
  if (cap.me) { start(); }
});
Corridor.initLanguage($("lang")).then(start);
