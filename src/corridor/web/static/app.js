// Corridor dashboard: log in, see the corridor on a map, plan and compare routes, book and list shipments.
"use strict";

const API = "/api/v1";
// Line styles per mode, from the network's mode capability table (GET /network/modes).
let MODE_STYLE = {};
const state = { me: null, nodes: [], byName: {}, map: null, routeLayer: null, lastRequest: null, options: [], links: {} };
const $ = (id) => document.getElementById(id);
const { api, busy, esc: escapeHtml, t, word } = Corridor;
// Data (place, organisation and line names, codes) is marked translate="no": no catalogue has it.
const data = (text) => `<span translate="no">${escapeHtml(text)}</span>`;

function show(view) {
  for (const id of ["login-view", "planner-view", "shipments-view", "shipment-view", "customs-view"]) $(id).hidden = id !== view;
  $("nav").hidden = view === "login-view";
  if (view === "login-view") setTimeout(() => $("login-email").focus(), 0);
  $("nav-planner").classList.toggle("active", view === "planner-view");
  $("nav-shipments").classList.toggle("active", view === "shipments-view");
  $("nav-customs").classList.toggle("active", view === "customs-view");
  if (view === "planner-view" && state.map) setTimeout(() => state.map.invalidateSize(), 50);
}

// Logged out here or in another tab: forget everything the last user saw.
function logoutLocal() {
  state.me = null; state.options = []; state.lastRequest = null;
  $("results").innerHTML = ""; $("whoami").textContent = "";
  $("shipments-table").querySelector("tbody").innerHTML = "";
  if (state.routeLayer) { state.routeLayer.remove(); state.routeLayer = null; }
  show("login-view");
}
Corridor.onLogout(logoutLocal);

async function start() {
  if (!Corridor.token()) { show("login-view"); return; }
  try { state.me = await api("/me"); } catch { return; }
  $("whoami").textContent = `${state.me.name}, ${state.me.organisation}`;
  $("nav-customs").hidden = state.me.kind !== "customs";
  $("nav-admin").hidden = state.me.kind !== "admin";
  await initMap();
  route();
}

// Active disruption notices on the map: closed ports and lines in red, reduced ones in amber.
async function drawNotices(map, nodes, links) {
  const notices = await api("/notices?status=active").catch(() => []);
  const byId = (features) => Object.fromEntries(features.map((f) => [f.properties.id, f]));
  const nodeIndex = byId(nodes), linkIndex = byId(links);
  for (const notice of notices) {
    const colour = ["closure", "suspension", "acceptance_stop"].includes(notice.kind) ? "#b3261e" : "#c47f00";
    const label = `${t(`notices.kind_${notice.kind}`)} (${t(`notices.severity_${notice.severity}`)}): ${notice.texts[Corridor.lang()] || notice.texts.en || Object.values(notice.texts)[0]}`;
    for (const element of notice.elements) {
      if (element.kind === "node" && nodeIndex[element.id]) {
        const [lon, lat] = nodeIndex[element.id].geometry.coordinates;
        L.circleMarker([lat, lon], { radius: 10, color: colour, weight: 3, fill: false }).bindTooltip(label).addTo(map);
      } else if (element.kind === "link" && linkIndex[element.id]) {
        L.geoJSON(linkIndex[element.id], { style: { color: colour, weight: 6, opacity: 0.7 } }).bindTooltip(label).addTo(map);
      }
    }
  }
}

function route() {
  if (!state.me) return;
  if (location.hash === "#shipments") { show("shipments-view"); loadShipments(); }
  else if (location.hash.startsWith("#shipment/")) { show("shipment-view"); loadShipment(decodeURIComponent(location.hash.slice(10))); }
  else if (location.hash === "#customs" && state.me.kind === "customs") { show("customs-view"); CustomsPage.open(state.me); }
  else { show("planner-view"); }
}

async function initMap() {
  if (state.map) return;
  const map = L.map("map", { zoomControl: true, attributionControl: true }).setView([43, 55], 4);
  state.map = map;
  const countries = await fetch("countries.geojson").then((r) => r.json());
  L.geoJSON(countries, { style: { color: "#9fb3c2", weight: 0.7, fillColor: "#f7f5ef", fillOpacity: 1 }, interactive: false }).addTo(map);
  const [network, modes] = await Promise.all([api("/network/geojson"), api("/network/modes")]);
  MODE_STYLE = Object.fromEntries(modes.map((m) => [m.mode, { color: m.style.color, weight: m.style.weight, dashArray: m.style.dashArray || null }]));
  const links = network.features.filter((f) => f.geometry.type === "LineString");
  const nodes = network.features.filter((f) => f.geometry.type === "Point");
  L.geoJSON({ type: "FeatureCollection", features: links }, {
    style: (f) => MODE_STYLE[f.properties.mode] || { color: "#555", weight: 2 },
    onEachFeature: (f, layer) => layer.bindTooltip(`${f.properties.id}: ${word("mode", f.properties.mode)}, ${Math.round(f.properties.distance_km)} km`),
  }).addTo(map);
  L.geoJSON({ type: "FeatureCollection", features: nodes }, {
    pointToLayer: (f, latlng) => L.circleMarker(latlng, { radius: f.properties.kind === "sea_port" ? 5 : 3.5, color: "#10324a", weight: 1, fillColor: f.properties.kind === "sea_port" ? "#1565c0" : "#fff", fillOpacity: 1 }),
    onEachFeature: (f, layer) => layer.bindTooltip(`${f.properties.name} (${f.properties.country})`),
  }).addTo(map);
  drawNotices(map, nodes, links);
  // The energy corridor beside the transport network, once an energy run has been saved.
  CorridorEnergy.addTo(map, api, { run: "2025" }).catch(() => {});
  const legend = L.control({ position: "bottomleft" });
  legend.onAdd = () => {
    const div = L.DomUtil.create("div", "legend");
    div.innerHTML = Object.entries(MODE_STYLE).map(([m, s]) => `<div><i style="background:${s.color}"></i>${escapeHtml(word("mode", m))}</div>`).join("");
    return div;
  };
  legend.addTo(map);
  state.nodes = nodes.map((f) => ({ ...f.properties, lon: f.geometry.coordinates[0], lat: f.geometry.coordinates[1] }));
  state.byName = Object.fromEntries(state.nodes.map((n) => [n.name, n.id]));
  $("places").innerHTML = state.nodes.map((n) => `<option value="${escapeHtml(n.name)}">${n.id}</option>`).join("");
}


function place(text) { return state.byName[text] || text; }
const fmt = (iso) => Corridor.date(iso);
const money = (x) => Corridor.num(x);

function routeRequest() {
  return {
    origin: place($("route-from").value.trim()),
    destination: place($("route-to").value.trim()),
    ready: `${$("route-ready").value}T08:00:00Z`,
    containers: Number($("route-containers").value),
    container_type: $("route-type").value,
    avoid_countries: $("route-avoid").value.split(",").map((s) => s.trim().toUpperCase()).filter(Boolean),
    via: $("route-via").value.trim() ? [place($("route-via").value.trim())] : [],
  };
}

const OPTION_COLOURS = ["#d1495b", "#00798c", "#8f5e15", "#6a4c93", "#2e4057", "#e07a5f"];

async function linkGeometry(id) {
  if (!state.links[id]) state.links[id] = api(`/network/links/${encodeURIComponent(id)}`).then((link) => link.geometry.map(([lon, lat]) => [lat, lon]));
  return state.links[id];
}

// The itinerary in its option's colour: ferry and sea legs dashed, stops and borders marked.
async function drawItinerary(itinerary, colour = OPTION_COLOURS[0]) {
  if (state.routeLayer) state.routeLayer.remove();
  const layer = L.featureGroup().addTo(state.map);
  state.routeLayer = layer;
  for (const leg of itinerary.legs) {
    const water = leg.mode === "ferry" || leg.mode === "sea";
    for (const linkId of leg.links) {
      const latlngs = await linkGeometry(linkId);
      if (state.routeLayer !== layer) return;
      L.polyline(latlngs, { color: colour, weight: 5, opacity: 0.9, dashArray: water ? "8 8" : null })
        .bindTooltip(`${word("mode", leg.mode)}: ${leg.from_name} → ${leg.to_name}`).addTo(layer);
    }
  }
  const stop = (id, name, kind) => {
    const node = state.nodes.find((n) => n.id === id);
    if (!node) return;
    const big = kind !== "transfer";
    L.circleMarker([node.lat, node.lon], { radius: big ? 8 : 5, color: "#10324a", weight: 2, fillColor: kind === "origin" ? "#2e7d32" : kind === "destination" ? "#b3261e" : "#fff", fillOpacity: 1 })
      .bindTooltip(`${t(`map.${kind}`)}: ${name}`).addTo(layer);
  };
  itinerary.legs.forEach((leg, i) => { if (i > 0) stop(leg.from_node, leg.from_name, "transfer"); });
  stop(itinerary.legs[0].from_node, itinerary.legs[0].from_name, "origin");
  const last = itinerary.legs[itinerary.legs.length - 1];
  stop(last.to_node, last.to_name, "destination");
  if (layer.getLayers().length) state.map.fitBounds(layer.getBounds(), { padding: [30, 30] });
}

function optionHtml(it, i, title) {
  return `<div class="option" data-index="${i}" id="option-${i}">
      <h3><i class="swatch" style="background:${OPTION_COLOURS[i % OPTION_COLOURS.length]}"></i>${escapeHtml(title)}: ${Corridor.num(it.transit_days, 1)} ${t("planner.days")}
        <span class="badge">${it.corridors.length ? data(it.corridors.map(corridorName).join(", ")) : t("planner.route")}</span></h3>
      <div>${t("planner.arrives")} ${fmt(it.arrival)} &middot; ${Corridor.money(it.cost_usd)} &middot; ${Corridor.num(it.co2e_kg / 1000, 1)} t CO2e &middot; ${money(it.distance_km)} km</div>
      <ol class="legs">${it.legs.map((l) => `<li>${escapeHtml(word("mode", l.mode))}: ${data(l.from_name)} &rarr; ${data(l.to_name)} (${fmt(l.departure)} &rarr; ${fmt(l.arrival)})</li>`).join("")}</ol>
      <div class="row-actions">
        <button type="button" class="small secondary show" data-index="${i}" aria-pressed="false" aria-label="${escapeHtml(t("planner.show_n", { n: i + 1 }))}">${t("planner.show")}</button>
        <button type="button" class="small book" data-index="${i}" aria-label="${escapeHtml(t("planner.book_n", { n: i + 1 }))}">${t("planner.book")}</button>
      </div>
    </div>`;
}

function corridorName(id) { return (state.corridors && state.corridors[id]) || id; }

function renderOptions(options, titles = null) {
  state.options = options;
  $("results").innerHTML = chart(options) + options.map((it, i) => optionHtml(it, i, titles ? titles[i] : t("planner.option", { n: i + 1 }))).join("");
  for (const el of document.querySelectorAll(".option")) {
    el.addEventListener("click", () => selectOption(Number(el.dataset.index)));
  }
  for (const el of document.querySelectorAll("button.book")) {
    el.addEventListener("click", (ev) => { ev.stopPropagation(); busy(el, () => book(Number(el.dataset.index))); });
  }
  if (options.length) selectOption(0);
}

// Days against USD, one dot per option sized by its CO2e: the trade-off at a glance.
function chart(options) {
  if (options.length < 2) return "";
  const w = 380, h = 170, pad = 36;
  const xs = options.map((o) => o.transit_days), ys = options.map((o) => o.cost_usd), cs = options.map((o) => o.co2e_kg);
  const [x0, x1] = [Math.min(...xs) * 0.95, Math.max(...xs) * 1.05], [y0, y1] = [Math.min(...ys) * 0.9, Math.max(...ys) * 1.1];
  const X = (v) => pad + ((v - x0) / (x1 - x0 || 1)) * (w - pad - 10), Y = (v) => h - pad + 10 - ((v - y0) / (y1 - y0 || 1)) * (h - pad - 10);
  const cmax = Math.max(...cs);
  const dots = options.map((o, i) => `<circle cx="${X(o.transit_days)}" cy="${Y(o.cost_usd)}" r="${5 + 10 * Math.sqrt(o.co2e_kg / cmax)}" fill="${OPTION_COLOURS[i % OPTION_COLOURS.length]}" fill-opacity=".75"><title>${escapeHtml(t("planner.option", { n: i + 1 }))}: ${Corridor.num(o.transit_days, 1)} d, ${Corridor.money(o.cost_usd)}, ${Corridor.num(o.co2e_kg / 1000, 1)} t CO2e</title></circle>`).join("");
  return `<figure class="chart"><svg viewBox="0 0 ${w} ${h}" width="100%" role="img" aria-label="${escapeHtml(t("planner.chart"))}">
    <line x1="${pad}" y1="${h - pad + 10}" x2="${w - 10}" y2="${h - pad + 10}" stroke="#5b6b7c"/><line x1="${pad}" y1="10" x2="${pad}" y2="${h - pad + 10}" stroke="#5b6b7c"/>
    <text x="${w - 10}" y="${h - 6}" text-anchor="end" font-size="11">${escapeHtml(t("planner.days"))} ${Corridor.num(x0, 0)}–${Corridor.num(x1, 0)}</text>
    <text x="4" y="12" font-size="11">USD</text>${dots}</svg><figcaption class="muted">${escapeHtml(t("planner.chart"))}</figcaption></figure>`;
}

function selectOption(i) {
  document.querySelectorAll(".option").forEach((el) => {
    const on = Number(el.dataset.index) === i;
    el.classList.toggle("selected", on);
    el.querySelector("button.show").setAttribute("aria-pressed", String(on));
  });
  drawItinerary(state.options[i], OPTION_COLOURS[i % OPTION_COLOURS.length]);
}

async function plan(ev) {
  ev.preventDefault();
  await busy($("plan-button"), async () => {
    $("route-error").textContent = "";
    $("results").innerHTML = `<p class="muted">${t("planner.planning")}</p>`;
    try {
      state.lastRequests = null;
      state.lastRequest = routeRequest();
      const answer = await api("/routes", { method: "POST", body: JSON.stringify(state.lastRequest) });
      renderOptions(answer.itineraries);
      if (answer.disruptions && answer.disruptions.length) {
        $("results").insertAdjacentHTML("afterbegin", `<p class="notice-line">${escapeHtml(t("planner.steered", { n: answer.disruptions.length }))} <a href="notices.html">${t("nav.notices")}</a></p>`);
      }
    } catch (e) { $("results").innerHTML = ""; $("route-error").textContent = e.message; }
  });
}

// The fastest option of every corridor, each bookable and drawn like any other option.
async function compareCorridors() {
  await busy($("compare-button"), async () => {
    $("route-error").textContent = "";
    $("results").innerHTML = `<p class="muted">${t("planner.comparing")}</p>`;
    try {
      const base = routeRequest();
      const rows = (await api("/routes/compare", { method: "POST", body: JSON.stringify(base) })).filter((r) => r.itinerary);
      rows.sort((a, b) => a.itinerary.transit_days - b.itinerary.transit_days);
      state.corridors = Object.fromEntries(rows.map((r) => [r.corridor, r.name]));
      state.lastRequests = rows.map((r) => ({ ...base, corridor: r.corridor, best: "time" }));
      renderOptions(rows.map((r) => r.itinerary), rows.map((r) => r.name));
      if (!rows.length) $("results").innerHTML = `<p class="muted">${t("planner.no_corridor")}</p>`;
    } catch (e) { $("results").innerHTML = ""; $("route-error").textContent = e.message; }
  });
}

async function book(i) {
  const reference = `WEB-${Date.now().toString(36).toUpperCase()}`;
  const route = state.lastRequests ? state.lastRequests[i] : state.lastRequest;
  const option = state.lastRequests ? 0 : i;
  try {
    await api("/shipments", { method: "POST", body: JSON.stringify({ reference, route, option }) });
    location.hash = "#shipments";
  } catch (e) { $("route-error").textContent = e.message; }
}

async function loadShipments() {
  $("shipments-scope").textContent = t(`shipments.scope_${state.me.kind}`, { country: state.me.country || "" });
  const rows = await api("/shipments");
  $("shipments-empty").hidden = rows.length > 0;
  $("shipments-table").querySelector("tbody").innerHTML = rows.map((s) => `
    <tr class="status-${s.status}" data-id="${s.id}">
      <td translate="no"><a href="#shipment/${encodeURIComponent(s.id)}">${escapeHtml(s.reference)}</a></td><td translate="no">${escapeHtml(s.itinerary.legs[0].from_name)}</td><td translate="no">${escapeHtml(s.itinerary.legs[s.itinerary.legs.length - 1].to_name)}</td>
      <td>${fmt(s.arrival_at)}</td><td class="num">${s.teu}</td><td class="num">${money(s.cost_usd)}</td><td class="num">${Corridor.num(s.co2e_kg / 1000, 1)}</td>
      <td translate="no">${s.countries.join(" ")}</td><td>${escapeHtml(word("shipment.state", s.status))}</td>
      <td class="position" data-id="${s.id}">…</td><td class="eta" data-id="${s.id}">…</td>
      <td>${s.status === "planned" && state.me.kind === "forwarder" ? `<button class="small secondary cancel" data-id="${s.id}" aria-label="${escapeHtml(t("shipments.cancel_ref", { ref: s.reference }))}">${t("shipments.cancel")}</button>` : ""}</td>
    </tr>`).join("");
  for (const cell of document.querySelectorAll("#shipments-table td.eta")) {
    api(`/shipments/${cell.dataset.id}/tracking`).then((t) => {
      const pos = document.querySelector(`#shipments-table td.position[data-id="${cell.dataset.id}"]`);
      pos.textContent = t.position ? t.position.name : Corridor.t("shipments.not_seen");
      pos.translate = !t.position;
      if (t.position) { const b = document.querySelector(`button.cancel[data-id="${cell.dataset.id}"]`); if (b) b.remove(); }
      const late = t.slip_h > 24;
      cell.innerHTML = `${fmt(t.eta)}${t.slip_h ? ` <span class="${late ? "channel channel-red" : "muted"}">${t.slip_h > 0 ? "+" : ""}${Math.round(t.slip_h)} h</span>` : ""}`;
      cell.title = t.basis;  // the ETA's reasoning as the tracking API words it
      cell.translate = false;
    }).catch(() => { cell.textContent = "-"; });
  }
  for (const el of document.querySelectorAll("button.cancel")) {
    el.addEventListener("click", () => busy(el, async () => {
      if (!confirm(t("shipments.confirm_cancel"))) return;
      try { await api(`/shipments/${el.dataset.id}/cancel`, { method: "POST" }); loadShipments(); }
      catch (e) { $("shipments-error").textContent = e.message; }
    }));
  }
}

// -- one shipment: timeline, map, customs, events, alerts -----------------------------------
// Where a shipment is, from its events: planned until the first event, then in transit, arrived at
// the destination, or cancelled.
function shipmentState(shipment, tracking) {
  if (shipment.status === "cancelled") return "cancelled";
  if (!tracking || !tracking.events) return "planned";
  const last = shipment.itinerary.legs[shipment.itinerary.legs.length - 1];
  return tracking.position && tracking.position.node === last.to_node ? "arrived" : "in_transit";
}

async function loadShipment(id) {
  $("shipment-error").textContent = "";
  $("declaration-form").hidden = true;  // until this shipment's customs state is known
  $("sh-customs").innerHTML = "";
  let shipment;
  try { shipment = await api(`/shipments/${encodeURIComponent(id)}`); } catch (e) { $("shipment-error").textContent = e.message; return; }
  const [tracking, declarations] = await Promise.all([
    api(`/shipments/${encodeURIComponent(id)}/tracking`).catch(() => null),
    api("/customs/declarations").catch(() => []),
  ]);
  const stateName = shipmentState(shipment, tracking);
  $("sh-reference").textContent = shipment.reference;
  $("sh-state").textContent = t(`shipment.state_${stateName}`);
  $("sh-summary").innerHTML = `${data(`${shipment.itinerary.legs[0].from_name} → ${shipment.itinerary.legs[shipment.itinerary.legs.length - 1].to_name}`)} · ${shipment.teu} TEU · ${Corridor.money(shipment.cost_usd)} · ${Corridor.num(shipment.co2e_kg / 1000, 1)} t CO2e`;
  $("sh-eta").innerHTML = tracking
    ? `${t("shipment.planned")} ${fmt(tracking.planned_arrival)} · ${t("shipment.eta")} <strong>${fmt(tracking.eta)}</strong> (${tracking.slip_h > 0 ? "+" : ""}${Corridor.num(tracking.slip_h, 0)} h)<br><span class="muted" translate="no">${escapeHtml(tracking.basis)}</span>`
    : "";
  const cancel = $("sh-cancel");
  cancel.hidden = !(stateName === "planned" && state.me.kind === "forwarder");
  cancel.onclick = () => busy(cancel, async () => {
    if (!confirm(t("shipments.confirm_cancel"))) return;
    try { await api(`/shipments/${encodeURIComponent(id)}/cancel`, { method: "POST" }); loadShipment(id); }
    catch (e) { $("shipment-error").textContent = e.message; }
  });
  const legs = tracking ? tracking.legs : shipment.itinerary.legs.map((l) => ({ from: l.from_node, to: l.to_node, mode: l.mode, planned_departure: l.departure, planned_arrival: l.arrival }));
  const name = (nodeId) => (state.nodes.find((n) => n.id === nodeId) || { name: nodeId }).name;
  $("sh-legs").querySelector("tbody").innerHTML = legs.map((l) => `<tr>
      <td>${escapeHtml(word("mode", l.mode))}: ${data(name(l.from))} → ${data(name(l.to))}</td>
      <td>${fmt(l.planned_departure)}</td><td>${l.actual_departure ? fmt(l.actual_departure) : "-"}</td>
      <td>${fmt(l.planned_arrival)}</td><td>${l.actual_arrival ? fmt(l.actual_arrival) : "-"}</td>
      <td class="num ${l.delay_h > 24 ? "late" : ""}">${l.delay_h == null ? "-" : Corridor.num(l.delay_h, 0)}</td></tr>`).join("");
  $("sh-alerts").innerHTML = tracking && tracking.alerts && tracking.alerts.length
    ? tracking.alerts.map((a) => `<li>${fmt(a.created_at)}: ${t("shipment.alert_slip", { h: Corridor.num(a.slip_h, 0) })} (${escapeHtml(word("shipment.alert", a.status))})</li>`).join("")
    : `<li class="muted">${t("shipment.no_alerts")}</li>`;
  const events = await api(`/epcis/events?EQ_shipment=${encodeURIComponent(id)}&perPage=100`).catch(() => null);
  const list = events && events.epcisBody ? events.epcisBody.queryResults.resultsBody.eventList : [];
  $("sh-events").innerHTML = list.length
    ? list.map((e) => `<li>${fmt(e.eventTime)}: ${escapeHtml(word("epcis", String(e.bizStep || e.type).split(/[:/]/).pop()))} · ${data(name(String((e.bizLocation || {}).id || "").split(":").pop()))}</li>`).join("")
    : `<li class="muted empty">${t("shipment.no_events")}</li>`;
  renderCustoms(shipment, declarations.find((d) => d.shipment_id === shipment.id));
  drawShipmentMap(shipment, tracking);
}

function renderCustoms(shipment, declaration) {
  const form = $("declaration-form");
  clearFieldErrors();
  if (declaration) {
    $("sh-customs").innerHTML = `<p>LRN ${data(declaration.lrn)} · <strong id="sh-decl-state">${escapeHtml(t(`declaration.state_${declaration.state}`))}</strong> · ${t("shipment.guarantee")} ${escapeHtml(t(`declaration.guarantee_${declaration.guarantee_state}`))} · ${t("declaration.version", { n: declaration.version })}</p>
      <div class="table-scroll"><table><thead><tr><th>#</th><th>${t("customs.office")}</th><th>${t("customs.role")}</th><th>${t("customs.channel")}</th><th>${t("customs.state")}</th></tr></thead><tbody>
      ${declaration.offices.map((o) => `<tr><td>${o.index + 1}</td><td translate="no">${escapeHtml(o.name)} (${escapeHtml(o.country)})</td><td>${escapeHtml(t(`customs.role_${o.role}`))}</td>
        <td><span class="channel channel-${escapeHtml(o.channel)}">${escapeHtml(t(`customs.channel_${o.channel}`))}</span></td>
        <td>${o.index < declaration.next_office ? t("shipment.office_done") : o.index === declaration.next_office ? t("shipment.office_next") : "-"}</td></tr>`).join("")}</tbody></table></div>
      <p class="muted" id="sh-goods">${t("declaration.goods")}: ${data(declaration.declaration.goods.map((g) => `HS ${g.hs_code} ${g.description}`).join("; "))}</p>
      <p class="muted" id="sh-containers">${t("shipment.containers")}: ${data(declaration.declaration.containers.map((c) => `${c.number} (${c.seals.join(", ")})`).join("; "))}</p>
      <p class="muted" id="sh-guarantee">${t("declaration.guarantee")}: ${data(declaration.declaration.guarantee.reference)} · ${Corridor.money(declaration.declaration.guarantee.amount, declaration.declaration.guarantee.currency)}</p>
      ${AMENDABLE.has(declaration.state) && state.me.kind === "forwarder" ? `<button type="button" class="small secondary" id="d-amend-open">${t("declaration.amend_open")}</button>` : ""}
      <h4>${t("declaration.log")}</h4><ol id="sh-decl-log" class="events"><li class="muted">…</li></ol>`;
    form.hidden = true;
    form.dataset.shipment = "";
    const open = $("d-amend-open");
    if (open) open.addEventListener("click", () => openAmendment(shipment, declaration));
    loadDeclarationLog(declaration);
    return;
  }
  $("sh-customs").innerHTML = `<p class="muted">${t("shipment.no_declaration")}</p>`;
  form.hidden = !(state.me.kind === "forwarder" && shipment.status === "planned");
  $("d-submit").textContent = t("declaration.lodge");
  $("d-submit").dataset.i18n = "declaration.lodge";
  if (!form.hidden && form.dataset.shipment !== shipment.id) {
    form.reset();
    form.dataset.shipment = shipment.id;
    $("d-lrn").value = `LRN-${shipment.reference}`.slice(0, 50);
    $("d-holder").value = state.me.organisation;
  }
  form.onsubmit = (ev) => { ev.preventDefault(); busy($("d-submit"), () => submitDeclaration(shipment, null)); };
}

// The holder may amend until customs controls or releases the goods (the API has the last word).
const AMENDABLE = new Set(["draft", "lodged", "accepted"]);

// The form, filled with the declaration as it stands, turned into an amendment of its version.
function openAmendment(shipment, declaration) {
  const form = $("declaration-form");
  const d = declaration.declaration;
  const [g] = d.goods;
  const [c] = d.containers;
  const values = {
    "d-lrn": d.lrn, "d-means": d.transport_means, "d-holder": d.holder.name, "d-holder-id": d.holder.identifier, "d-holder-country": d.holder.country,
    "d-consignor": d.consignor.name, "d-consignee": d.consignee.name, "d-hs": g.hs_code, "d-description": g.description, "d-packages": g.packages,
    "d-gross": g.gross_kg, "d-net": g.net_kg, "d-value": g.value, "d-currency": g.currency, "d-container": c.number, "d-seals": c.seals.join(", "),
    "d-guarantee-ref": d.guarantee.reference, "d-guarantee-amount": d.guarantee.amount, "d-guarantee-currency": d.guarantee.currency,
  };
  for (const [id, value] of Object.entries(values)) $(id).value = value;
  $("d-aeo").checked = d.holder.aeo;
  $("d-lrn").readOnly = declaration.state !== "draft";  // the LRN is fixed once lodged
  $("d-submit").textContent = t("declaration.amend_save");
  $("d-submit").dataset.i18n = "declaration.amend_save";
  form.dataset.shipment = shipment.id;
  form.hidden = false;
  clearFieldErrors();
  form.onsubmit = (ev) => { ev.preventDefault(); busy($("d-submit"), () => submitDeclaration(shipment, declaration)); };
  $("d-hs").focus();
}

async function loadDeclarationLog(declaration) {
  const records = await api(`/customs/declarations/${encodeURIComponent(declaration.id)}/log`).catch(() => []);
  const list = $("sh-decl-log");
  if (!list) return;
  list.innerHTML = records.map((r) => `<li>${fmt(r.created_at)}: <strong>${escapeHtml(t(`declaration.action_${r.action}`))}</strong> · ${data(r.actor)} · <span class="muted">${t("declaration.signed")} ${data(r.key_id)}</span></li>`).join("");
}

// The form's fields by the API's field path, so an error lands next to its field.
const DECLARATION_FIELDS = {
  lrn: "d-lrn", transport_means: "d-means", "holder.name": "d-holder", "holder.identifier": "d-holder-id", "holder.country": "d-holder-country",
  "consignor.name": "d-consignor", "consignee.name": "d-consignee", "goods.0.hs_code": "d-hs", "goods.0.description": "d-description",
  "goods.0.packages": "d-packages", "goods.0.gross_kg": "d-gross", "goods.0.net_kg": "d-net", "goods.0.value": "d-value", "goods.0.currency": "d-currency",
  "containers.0.number": "d-container", "containers.0.seals": "d-seals", "guarantee.reference": "d-guarantee-ref", "guarantee.amount": "d-guarantee-amount", "guarantee.currency": "d-guarantee-currency",
};

function clearFieldErrors() {
  for (const el of document.querySelectorAll("#declaration-form [aria-invalid]")) { el.removeAttribute("aria-invalid"); el.removeAttribute("aria-describedby"); }
  for (const el of document.querySelectorAll("#declaration-form .field-error")) el.remove();
  $("declaration-error").textContent = "";
}

// An API error next to the field it names (described by it for screen readers), else below the form.
function showFieldError(error) {
  const field = (error.field || "").replace(/^declaration\./, "");
  const input = DECLARATION_FIELDS[field] && $(DECLARATION_FIELDS[field]);
  if (!input) { $("declaration-error").textContent = error.message; return; }
  const note = document.createElement("span");
  note.className = "field-error error";
  note.id = `${input.id}-error`;
  note.setAttribute("role", "alert");
  note.textContent = error.reason || error.message;
  input.insertAdjacentElement("afterend", note);
  input.setAttribute("aria-invalid", "true");
  input.setAttribute("aria-describedby", note.id);
  input.focus();
}

async function submitDeclaration(shipment, current) {
  const v = (id) => $(id).value.trim();
  clearFieldErrors();
  const country = v("d-holder-country").toUpperCase();
  const before = current ? current.declaration : null;
  const goods0 = { hs_code: v("d-hs"), description: v("d-description"), packages: Number(v("d-packages")), gross_kg: Number(v("d-gross")), net_kg: Number(v("d-net")), value: Number(v("d-value")), currency: v("d-currency").toUpperCase(), origin_country: before ? before.goods[0].origin_country : country };
  const container0 = { number: v("d-container").toUpperCase(), seals: v("d-seals").split(",").map((x) => x.trim()).filter(Boolean) };
  const declaration = {
    lrn: v("d-lrn"),
    holder: { name: v("d-holder"), country, identifier: v("d-holder-id"), aeo: $("d-aeo").checked },
    consignor: { name: v("d-consignor"), country: before ? before.consignor.country : country },
    consignee: { name: v("d-consignee"), country: before ? before.consignee.country : state.nodes.find((n) => n.id === shipment.destination)?.country || country },
    // An amendment edits the first goods item and container; any others stay as declared.
    goods: [goods0, ...(before ? before.goods.slice(1) : [])],
    containers: [container0, ...(before ? before.containers.slice(1) : [])],
    transport_means: v("d-means"),
    guarantee: { reference: v("d-guarantee-ref"), amount: Number(v("d-guarantee-amount")), currency: v("d-guarantee-currency").toUpperCase() },
  };
  try {
    if (current) await api(`/customs/declarations/${encodeURIComponent(current.id)}/amend`, { method: "POST", body: JSON.stringify({ version: current.version, declaration }) });
    else await api("/customs/declarations", { method: "POST", body: JSON.stringify({ shipment_id: shipment.id, declaration }) });
    $("d-lrn").readOnly = false;
    loadShipment(shipment.id);
  } catch (e) { showFieldError(e); }
}

async function drawShipmentMap(shipment, tracking) {
  if (!state.shipmentMap) {
    state.shipmentMap = L.map("shipment-map").setView([43, 55], 4);
    const countries = await fetch("countries.geojson").then((r) => r.json());
    L.geoJSON(countries, { style: { color: "#9fb3c2", weight: 0.7, fillColor: "#f7f5ef", fillOpacity: 1 }, interactive: false }).addTo(state.shipmentMap);
  }
  const map = state.shipmentMap;
  if (state.shipmentLayer) state.shipmentLayer.remove();
  const layer = L.featureGroup().addTo(map);
  state.shipmentLayer = layer;
  for (const leg of shipment.itinerary.legs) {
    for (const linkId of leg.links) {
      L.polyline(await linkGeometry(linkId), { color: "#0b6e8a", weight: 4, dashArray: leg.mode === "ferry" || leg.mode === "sea" ? "8 8" : null }).addTo(layer);
    }
  }
  if (tracking && tracking.position) {
    L.circleMarker([tracking.position.lat, tracking.position.lon], { radius: 10, color: "#fff", weight: 3, fillColor: "#e4572e", fillOpacity: 1 })
      .bindTooltip(`${t("shipment.position")}: ${tracking.position.name}`, { permanent: true }).addTo(layer);
  }
  setTimeout(() => { map.invalidateSize(); if (layer.getLayers().length) map.fitBounds(layer.getBounds(), { padding: [20, 20] }); }, 50);
}

$("login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  $("login-error").textContent = "";
  await busy($("login-button"), async () => {
    try {
      const answer = await api("/auth/login", { method: "POST", body: JSON.stringify({ email: $("login-email").value, password: $("login-password").value }) });
      Corridor.setToken(answer.token);
      $("login-password").value = "";
      if (!location.hash) location.hash = "#planner";
      await start();
    } catch (e) { $("login-error").textContent = e.message; }
  });
});
$("logout").addEventListener("click", async () => { try { await api("/auth/logout", { method: "POST" }); } catch { /* logged out anyway */ } finally { Corridor.clearToken(); } });
$("route-form").addEventListener("submit", plan);
$("compare-button").addEventListener("click", compareCorridors);
window.addEventListener("hashchange", route);
$("route-ready").value = new Date(Date.now() + 86400000).toISOString().slice(0, 10);
document.addEventListener("corridor:language", () => { if (state.me) route(); });
Corridor.initLanguage($("lang-select")).then(start);
