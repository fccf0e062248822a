// Corridor dashboard: the energy layer. Pipelines and power cables of a saved energy run, drawn
// beside the transport network: line width by annual flow, colour by utilisation (green < 50 %,
// amber < 85 %, red above), dashed when the asset is planned or proposed.
//
// Hook-up (in app.js, after the map exists):
//   CorridorEnergy.addTo(state.map, api, { run: "2025" });
// where `api(path)` is the dashboard's authenticated fetch helper returning parsed JSON.
// The layer reads GET /api/v1/energy/runs/{run}/flows (GeoJSON); a run is saved by
// `corridor energy run 2025` or POST /api/v1/energy/runs.
"use strict";

const CorridorEnergy = (() => {
  const GAS_DASH = null;
  const CABLE_DASH = "8 4";

  function weight(feature, peaks) {
    const p = feature.properties;
    const peak = peaks[p.carrier] || 1;
    return 1.5 + 8 * Math.min(Math.abs(p.flow) / peak, 1);
  }

  function style(feature, peaks) {
    const p = feature.properties;
    const planned = p.status !== "operating";
    return {
      color: p.colour,
      weight: weight(feature, peaks),
      opacity: planned ? 0.6 : 0.9,
      dashArray: planned ? "2 6" : p.carrier === "electricity" ? CABLE_DASH : GAS_DASH,
    };
  }

  function popup(p) {
    const el = document.createElement("div");
    const title = document.createElement("strong");
    title.textContent = p.name;
    el.appendChild(title);
    // Texts from the dashboard's catalogues (Corridor.t), numbers in the chosen locale.
    const tr = (key, vars) => (window.Corridor ? Corridor.t(key, vars) : key);
    const num = (x, digits) => (window.Corridor ? Corridor.num(x, digits) : x.toFixed(digits));
    const lines = [
      tr(p.carrier === "gas" ? "energy.gas_status" : "energy.power_status", { status: tr(`energy.status_${p.status}`) }),
      tr("energy.flow", { flow: num(p.flow, 2), unit: p.unit }),
      tr("energy.capacity", { capacity: num(p.capacity, 0), unit: p.capacity_unit }),
      tr("energy.utilisation", { share: num(p.utilisation * 100, 0) }),
    ];
    for (const text of lines) {
      const row = document.createElement("div");
      row.textContent = text;
      el.appendChild(row);
    }
    return el;
  }

  // Fetch the run's flows and add them as a toggleable overlay; resolves to the Leaflet layer.
  async function addTo(map, api, options = {}) {
    const run = options.run || "2025";
    const data = await api(`/energy/runs/${encodeURIComponent(run)}/flows`);
    const peaks = {};
    for (const f of data.features) {
      const p = f.properties;
      peaks[p.carrier] = Math.max(peaks[p.carrier] || 0, Math.abs(p.flow));
    }
    const layer = L.geoJSON(data, {
      style: (f) => style(f, peaks),
      onEachFeature: (f, l) => l.bindPopup(popup(f.properties)),
    });
    layer.addTo(map);
    if (options.control !== false) {
      L.control.layers(null, { [window.Corridor ? Corridor.t("energy.layer", { scenario: data.scenario }) : `Energy flows (${data.scenario})`]: layer }, { collapsed: true }).addTo(map);
    }
    return layer;
  }

  return { addTo, style, weight };
})();

if (typeof window !== "undefined") window.CorridorEnergy = CorridorEnergy;
