// Corridor dashboard: log in, see the corridor on a map, plan and compare routes, book and list shipments.
"use strict";

const API = "/api/v1";
const MODE_STYLE = {
  rail: { color: "#7a4b22", weight: 2.5 },
  ferry: { color: "#1565c0", weight: 2.5, dashArray: "6 5" },
  sea: { color: "#5fa8d3", weight: 2, dashArray: "2 6" },
  road: { color: "#6d6d6d", weight: 2, dashArray: "1 4" },
};
const state = { token: sessionStorage.getItem("corridor-token"), me: null, nodes: [], byName: {}, map: null, routeLayer: null, lastRequest: null, options: [] };
const $ = (id) => document.getElementById(id);

async function api(path, options = {}) {
  const headers = { "Content-Type": "application/json" };
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  const response = await fetch(API + path, { ...options, headers });
  if (response.status === 204) return null;
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const err = body.error || { reason: response.statusText };
    if (response.status === 401 && path !== "/auth/login") { logoutLocal(); }
    throw new Error(err.field ? `${err.field}: ${err.reason}` : err.reason);
  }
  return body;
}

function show(view) {
  for (const id of ["login-view", "planner-view", "shipments-view", "customs-view"]) $(id).hidden = id !== view;
  $("nav").hidden = view === "login-view";
  $("nav-planner").classList.toggle("active", view === "planner-view");
  $("nav-shipments").classList.toggle("active", view === "shipments-view");
  $("nav-customs").classList.toggle("active", view === "customs-view");
  if (view === "planner-view" && state.map) setTimeout(() => state.map.invalidateSize(), 50);
}

function logoutLocal() {
  state.token = null; state.me = null;
  sessionStorage.removeItem("corridor-token");
  show("login-view");
}

async function start() {
  if (!state.token) { show("login-view"); return; }
  try { state.me = await api("/me"); } catch { return; }
  $("whoami").textContent = `${state.me.name}, ${state.me.organisation}`;
  $("nav-customs").hidden = state.me.kind !== "customs";
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
    const label = `${notice.kind.replace("_", " ")} (${notice.severity}): ${notice.texts.en || Object.values(notice.texts)[0]}`;
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
  else if (location.hash === "#customs" && state.me.kind === "customs") { show("customs-view"); loadOffices(); }
  else { show("planner-view"); }
}

async function initMap() {
  if (state.map) return;
  const map = L.map("map", { zoomControl: true, attributionControl: true }).setView([43, 55], 4);
  state.map = map;
  const countries = await fetch("countries.geojson").then((r) => r.json());
  L.geoJSON(countries, { style: { color: "#9fb3c2", weight: 0.7, fillColor: "#f7f5ef", fillOpacity: 1 }, interactive: false }).addTo(map);
  const network = await api("/network/geojson");
  const links = network.features.filter((f) => f.geometry.type === "LineString");
  const nodes = network.features.filter((f) => f.geometry.type === "Point");
  L.geoJSON({ type: "FeatureCollection", features: links }, {
    style: (f) => MODE_STYLE[f.properties.mode] || MODE_STYLE.rail,
    onEachFeature: (f, layer) => layer.bindTooltip(`${f.properties.id}: ${f.properties.mode}, ${Math.round(f.properties.distance_km)} km`),
  }).addTo(map);
  L.geoJSON({ type: "FeatureCollection", features: nodes }, {
    pointToLayer: (f, latlng) => L.circleMarker(latlng, { radius: f.properties.kind === "sea_port" ? 5 : 3.5, color: "#10324a", weight: 1, fillColor: f.properties.kind === "sea_port" ? "#1565c0" : "#fff", fillOpacity: 1 }),
    onEachFeature: (f, layer) => layer.bindTooltip(`${f.properties.name} (${f.properties.country})`),
  }).addTo(map);
  drawNotices(map, nodes, links);
  const legend = L.control({ position: "bottomleft" });
  legend.onAdd = () => {
    const div = L.DomUtil.create("div", "legend");
    div.innerHTML = Object.entries(MODE_STYLE).map(([m, s]) => `<div><i style="background:${s.color}"></i>${m}</div>`).join("");
    return div;
  };
  legend.addTo(map);
  state.nodes = nodes.map((f) => f.properties);
  state.byName = Object.fromEntries(state.nodes.map((n) => [n.name, n.id]));
  $("places").innerHTML = state.nodes.map((n) => `<option value="${escapeHtml(n.name)}">${n.id}</option>`).join("");
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

function place(text) { return state.byName[text] || text; }
function fmt(iso) { return iso.replace("T", " ").slice(0, 16); }
function money(x) { return Math.round(x).toLocaleString("en-US"); }

function routeRequest() {
  return {
    origin: place($("route-from").value.trim()),
    destination: place($("route-to").value.trim()),
    ready: `${$("route-ready").value}T08:00:00Z`,
    containers: Number($("route-containers").value),
    container_type: $("route-type").value,
    avoid_countries: $("route-avoid").value.split(",").map((s) => s.trim().toUpperCase()).filter(Boolean),
  };
}

function drawItinerary(itinerary) {
  if (state.routeLayer) state.routeLayer.remove();
  state.routeLayer = L.featureGroup().addTo(state.map);
  for (const leg of itinerary.legs) {
    for (const linkId of leg.links) {
      api(`/network/links/${encodeURIComponent(linkId)}`).then((link) => {
        const latlngs = link.geometry.map(([lon, lat]) => [lat, lon]);
        L.polyline(latlngs, { color: "#e4572e", weight: 5, opacity: 0.85 }).addTo(state.routeLayer);
      });
    }
  }
}

function renderOptions(options) {
  state.options = options;
  const html = options.map((it, i) => `
    <div class="option" data-index="${i}" id="option-${i}">
      <h3>Option ${i + 1}: ${it.transit_days.toFixed(1)} days <span class="badge">${escapeHtml(it.corridors.join(", ") || "route")}</span></h3>
      <div>Arrives ${fmt(it.arrival)} UTC &middot; USD ${money(it.cost_usd)} &middot; ${(it.co2e_kg / 1000).toFixed(1)} t CO2e &middot; ${money(it.distance_km)} km</div>
      <ol class="legs">${it.legs.map((l) => `<li>${l.mode}: ${escapeHtml(l.from_name)} &rarr; ${escapeHtml(l.to_name)} (${fmt(l.departure)} &rarr; ${fmt(l.arrival)})</li>`).join("")}</ol>
      <button type="button" class="small book" data-index="${i}">Book this option</button>
    </div>`).join("");
  $("results").innerHTML = html;
  for (const el of document.querySelectorAll(".option")) {
    el.addEventListener("click", () => selectOption(Number(el.dataset.index)));
  }
  for (const el of document.querySelectorAll("button.book")) {
    el.addEventListener("click", (ev) => { ev.stopPropagation(); book(Number(el.dataset.index)); });
  }
  if (options.length) selectOption(0);
}

function selectOption(i) {
  document.querySelectorAll(".option").forEach((el) => el.classList.toggle("selected", Number(el.dataset.index) === i));
  drawItinerary(state.options[i]);
}

async function plan(ev) {
  ev.preventDefault();
  $("route-error").textContent = "";
  $("results").innerHTML = '<p class="muted">Planning...</p>';
  try {
    state.lastRequest = routeRequest();
    const answer = await api("/routes", { method: "POST", body: JSON.stringify(state.lastRequest) });
    renderOptions(answer.itineraries);
  } catch (e) { $("results").innerHTML = ""; $("route-error").textContent = e.message; }
}

async function compareCorridors() {
  $("route-error").textContent = "";
  $("results").innerHTML = '<p class="muted">Comparing corridors...</p>';
  try {
    const rows = await api("/routes/compare", { method: "POST", body: JSON.stringify(routeRequest()) });
    rows.sort((a, b) => (a.itinerary ? a.itinerary.transit_days : 1e9) - (b.itinerary ? b.itinerary.transit_days : 1e9));
    $("results").innerHTML = `<table id="compare-table"><thead><tr><th>Corridor</th><th class="num">Days</th><th class="num">USD</th><th class="num">t CO2e</th></tr></thead><tbody>${
      rows.map((r) => r.itinerary
        ? `<tr><td title="${escapeHtml(r.name)}">${r.corridor}</td><td class="num">${r.itinerary.transit_days.toFixed(1)}</td><td class="num">${money(r.itinerary.cost_usd)}</td><td class="num">${(r.itinerary.co2e_kg / 1000).toFixed(1)}</td></tr>`
        : `<tr><td>${r.corridor}</td><td colspan="3" class="muted">no route</td></tr>`).join("")}</tbody></table>`;
  } catch (e) { $("results").innerHTML = ""; $("route-error").textContent = e.message; }
}

async function book(i) {
  const reference = `WEB-${Date.now().toString(36).toUpperCase()}`;
  try {
    await api("/shipments", { method: "POST", body: JSON.stringify({ reference, route: state.lastRequest, option: i }) });
    location.hash = "#shipments";
  } catch (e) { $("route-error").textContent = e.message; }
}

async function loadShipments() {
  const scope = { forwarder: "Shipments booked by your organisation.", customs: `Shipments whose route passes ${state.me.country}.`, admin: "All shipments.", carrier: "Carriers do not see shipments yet." };
  $("shipments-scope").textContent = scope[state.me.kind] || "";
  const rows = await api("/shipments");
  $("shipments-empty").hidden = rows.length > 0;
  $("shipments-table").querySelector("tbody").innerHTML = rows.map((s) => `
    <tr class="status-${s.status}" data-id="${s.id}">
      <td>${escapeHtml(s.reference)}</td><td>${escapeHtml(s.itinerary.legs[0].from_name)}</td><td>${escapeHtml(s.itinerary.legs[s.itinerary.legs.length - 1].to_name)}</td>
      <td>${fmt(s.arrival_at)}</td><td class="num">${s.teu}</td><td class="num">${money(s.cost_usd)}</td><td class="num">${(s.co2e_kg / 1000).toFixed(1)}</td>
      <td>${s.countries.join(" ")}</td><td>${s.status}</td>
      <td class="position" data-id="${s.id}">…</td><td class="eta" data-id="${s.id}">…</td>
      <td>${s.status === "planned" && state.me.kind !== "customs" ? `<button class="small secondary cancel" data-id="${s.id}">Cancel</button>` : ""}</td>
    </tr>`).join("");
  for (const cell of document.querySelectorAll("#shipments-table td.eta")) {
    api(`/shipments/${cell.dataset.id}/tracking`).then((t) => {
      const pos = document.querySelector(`#shipments-table td.position[data-id="${cell.dataset.id}"]`);
      pos.textContent = t.position ? t.position.name : "not seen yet";
      const late = t.slip_h > 24;
      cell.innerHTML = `${fmt(t.eta)}${t.slip_h ? ` <span class="${late ? "channel channel-red" : "muted"}">${t.slip_h > 0 ? "+" : ""}${Math.round(t.slip_h)} h</span>` : ""}`;
      cell.title = t.basis;
    }).catch(() => { cell.textContent = "-"; });
  }
  for (const el of document.querySelectorAll("button.cancel")) {
    el.addEventListener("click", async () => { await api(`/shipments/${el.dataset.id}/cancel`, { method: "POST" }); loadShipments(); });
  }
}

// -- customs officer page -------------------------------------------------------------------
const NEXT_STEPS = {
  // what "Release" does for a green consignment, by the role of this office and the state
  departure: { lodged: ["accept", "release"], accepted: ["release"] },
  exit: { released: ["arrive", "pass"] },
  entry: { released: ["arrive", "pass"] },
  destination: { released: ["arrive", "discharge"], arrived: ["discharge"] },
};

async function loadOffices() {
  if (!$("office-select").options.length) {
    const offices = await api(`/customs/offices?country=${state.me.country}`);
    offices.sort((a, b) => a.name.localeCompare(b.name));
    $("office-select").innerHTML = offices.map((o) => `<option value="${o.id}">${escapeHtml(o.name)}</option>`).join("");
    const busy = offices.find((o) => !o.id.startsWith("co-"));
    if (busy) $("office-select").value = busy.id;
  }
  loadExpected();
}

async function officeAct(declaration, action, details = {}) {
  return api(`/customs/declarations/${declaration}/actions`, {
    method: "POST", body: JSON.stringify({ action, office_id: $("office-select").value, details }),
  });
}

async function loadExpected() {
  $("customs-error").textContent = "";
  const office = $("office-select").value;
  const [rows, kpis] = await Promise.all([api(`/customs/offices/${office}/expected`), api(`/customs/offices/${office}/kpis`)]);
  $("office-kpis").textContent = `Released here: ${kpis.released}; average arrival-to-release ${kpis.average_hours_to_release ?? "-"} h; share green ${kpis.share_green === null ? "-" : Math.round(kpis.share_green * 100) + "%"}`;
  $("expected-empty").hidden = rows.length > 0;
  $("expected-table").querySelector("tbody").innerHTML = rows.map((r) => {
    const steps = (NEXT_STEPS[r.role] || {})[r.state] || [];
    const atOffice = r.role === "departure" || r.arrived || r.state === "arrived";
    const buttons = [];
    if (r.channel === "green" && steps.length) buttons.push(`<button class="small release" data-id="${r.declaration_id}" data-steps="${steps.join(",")}">Release</button>`);
    if (r.channel !== "green" && atOffice) buttons.push(`<button class="small secondary inspect" data-id="${r.declaration_id}" data-lrn="${escapeHtml(r.lrn)}">Inspect</button>`);
    if (r.channel !== "green" && steps.length) buttons.push(`<button class="small release" data-id="${r.declaration_id}" data-steps="${steps.join(",")}">Release after inspection</button>`);
    return `<tr data-id="${r.declaration_id}"><td>${escapeHtml(r.lrn)}</td><td>${r.role}</td><td>${r.state}${r.arrived ? " (arrived)" : ""}</td>
      <td><span class="channel channel-${r.channel}">${r.channel}</span></td><td>${r.reasons.map(escapeHtml).join("<br>")}</td><td>${buttons.join("")}</td></tr>`;
  }).join("");
  for (const el of document.querySelectorAll("#expected-table button.release")) {
    el.addEventListener("click", async () => {
      try {
        for (const step of el.dataset.steps.split(",")) {
          const current = await api(`/customs/declarations/${el.dataset.id}`);
          const here = current.offices.findIndex((o) => o.id === $("office-select").value && o.index >= current.next_office);
          if (step === "arrive" && current.arrived_at_next && current.next_office === here) continue;
          await officeAct(el.dataset.id, step);
        }
      } catch (e) { $("customs-error").textContent = e.message; }
      loadExpected();
    });
  }
  for (const el of document.querySelectorAll("#expected-table button.inspect")) {
    el.addEventListener("click", async () => {
      const current = await api(`/customs/declarations/${el.dataset.id}`);
      const here = current.offices.find((o) => o.id === $("office-select").value && o.index >= current.next_office);
      try { if (here && here.role !== "departure" && !current.arrived_at_next && current.state === "released") await officeAct(el.dataset.id, "arrive"); }
      catch (e) { $("customs-error").textContent = e.message; }
      $("inspection-form").hidden = false;
      $("inspection-form").dataset.id = el.dataset.id;
      $("inspection-lrn").textContent = el.dataset.lrn;
    });
  }
}

$("office-select").addEventListener("change", loadExpected);
$("inspection-cancel").addEventListener("click", () => { $("inspection-form").hidden = true; });
$("inspection-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const id = $("inspection-form").dataset.id;
  try {
    const current = await api(`/customs/declarations/${id}`);
    if (current.state === "lodged") await officeAct(id, "accept");
    await officeAct(id, "check", { result: $("inspection-result").value, seals_intact: $("inspection-seals").checked, note: $("inspection-note").value });
    $("inspection-form").hidden = true;
  } catch (e) { $("customs-error").textContent = e.message; }
  loadExpected();
});

$("login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  $("login-error").textContent = "";
  try {
    const answer = await api("/auth/login", { method: "POST", body: JSON.stringify({ email: $("login-email").value, password: $("login-password").value }) });
    state.token = answer.token;
    sessionStorage.setItem("corridor-token", answer.token);
    if (!location.hash) location.hash = "#planner";
    await start();
  } catch (e) { $("login-error").textContent = e.message; }
});
$("logout").addEventListener("click", async () => { try { await api("/auth/logout", { method: "POST" }); } finally { logoutLocal(); } });
$("route-form").addEventListener("submit", plan);
$("compare-button").addEventListener("click", compareCorridors);
window.addEventListener("hashchange", route);
$("route-ready").value = new Date(Date.now() + 86400000).toISOString().slice(0, 10);
start();
