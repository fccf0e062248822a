// Customs officer workspace: the pre-arrival queue (with why nothing can be done yet), history,
// a declaration's signed log with its verification, KPI charts, and errors where the officer acted.
"use strict";

const CustomsPage = (() => {
  const $ = (id) => document.getElementById(id);
  const { api, busy, esc, t } = Corridor;
  const state = { me: null, country: null, offices: [], declarations: {}, shipments: {} };

  // What "Release" does at an office for a consignment in a state, by the office's role.
  const NEXT_STEPS = {
    departure: { lodged: ["accept", "release"], accepted: ["release"] },
    exit: { released: ["arrive", "pass"] },
    entry: { released: ["arrive", "pass"] },
    destination: { released: ["arrive", "discharge"], arrived: ["discharge"] },
  };
  const RELEASING = ["release", "pass", "discharge"];

  const office = () => state.offices.find((o) => o.id === $("office-select").value);
  const officeName = (id) => (state.offices.find((o) => o.id === id) || { name: id || "-" }).name;

  // Logged out here or in another tab: the next officer must not see this one's offices.
  function clear() {
    state.me = null; state.country = null; state.offices = []; state.declarations = {}; state.shipments = {};
    $("office-select").innerHTML = ""; delete $("expected-table").dataset.office;
    for (const id of ["expected-table", "history-table", "detail-log"]) $(id).querySelector("tbody").innerHTML = "";
    $("kpi-charts").innerHTML = ""; $("customs-error").textContent = "";
    $("customs-detail").hidden = true; $("inspection-form").hidden = true;
  }
  Corridor.onLogout(clear);

  async function open(me) {
    if (state.country !== me.country) {
      clear();
      state.me = me; state.country = me.country;
      state.offices = await api(`/customs/offices?country=${encodeURIComponent(me.country)}`);
      state.offices.sort((a, b) => a.name.localeCompare(b.name));
      $("office-select").innerHTML = state.offices.map((o) => `<option value="${esc(o.id)}">${esc(o.name)}</option>`).join("");
      const busyOffice = state.offices.find((o) => !o.id.startsWith("co-"));
      if (busyOffice) $("office-select").value = busyOffice.id;
    }
    await refresh();
  }

  async function refresh() {
    $("customs-error").textContent = "";
    try {
      const [declarations, shipments] = await Promise.all([api("/customs/declarations"), api("/shipments")]);
      state.declarations = Object.fromEntries(declarations.map((d) => [d.id, d]));
      state.shipments = Object.fromEntries(shipments.map((s) => [s.id, s]));
      await Promise.all([loadExpected(), loadKpis()]);
      renderHistory();
    } catch (e) { $("customs-error").textContent = e.message; }
  }

  // Planned arrival of the goods at this office (departure: the planned departure from it).
  function expectedArrival(declaration, here) {
    const shipment = declaration && state.shipments[declaration.shipment_id];
    if (!shipment || !here) return null;
    const legs = shipment.itinerary.legs;
    if (legs[0].from_node === here.node) return legs[0].departure;
    const leg = legs.find((l) => l.to_node === here.node);
    return leg ? leg.arrival : null;
  }

  function goods(declaration) {
    if (!declaration) return "-";
    return declaration.declaration.goods.map((g) => `${esc(g.hs_code)} ${esc(g.description)} (${Corridor.num(g.gross_kg)} kg)`).join("<br>");
  }
  function containers(declaration) {
    if (!declaration) return "-";
    return declaration.declaration.containers.map((c) => `${esc(c.number)}: ${c.seals.map(esc).join(", ")}`).join("<br>");
  }

  // Why this office cannot act yet, in the officer's words.
  function waitingReason(r, declaration) {
    if (!declaration) return t("customs.waiting_earlier");
    const index = declaration.offices.findIndex((o) => o.id === $("office-select").value && o.index >= declaration.next_office);
    if (r.state === "lodged" && r.role !== "departure") return t("customs.waiting_departure", { office: declaration.offices[0].name });
    if (index > declaration.next_office) {
      const next = declaration.offices[declaration.next_office];
      return t("customs.waiting_office", { office: next ? `${next.name} (${next.country})` : "-", n: index - declaration.next_office });
    }
    return t("customs.waiting_lodging");
  }

  async function loadExpected() {
    const here = office();
    if (!here) return;
    const rows = await api(`/customs/offices/${encodeURIComponent(here.id)}/expected`);
    if (office() !== here) return;  // the officer chose another office meanwhile
    $("expected-table").dataset.office = here.id;
    $("expected-empty").hidden = rows.length > 0;
    $("expected-table").querySelector("tbody").innerHTML = rows.map((r) => {
      const declaration = state.declarations[r.declaration_id];
      const index = declaration ? declaration.offices.findIndex((o) => o.id === here.id && o.index >= declaration.next_office) : -1;
      const ourTurn = declaration && (index === declaration.next_office || r.role === "departure");
      const steps = ourTurn ? (NEXT_STEPS[r.role] || {})[r.state] || [] : [];
      const atOffice = ourTurn && (r.role === "departure" || r.state === "released" || r.state === "arrived");
      const named = (key) => `aria-label="${esc(t(key, { lrn: r.lrn }))}"`;
      const data = `data-id="${esc(r.declaration_id)}" data-lrn="${esc(r.lrn)}"`;
      const buttons = [];
      if (r.channel === "green" && steps.length) buttons.push(`<button type="button" class="small release" ${data} data-steps="${steps.join(",")}" ${named("customs.release_lrn")}>${t("customs.release")}</button>`);
      if (r.channel !== "green" && atOffice && steps.length) buttons.push(`<button type="button" class="small secondary inspect" ${data} ${named("customs.inspect_lrn")}>${t("customs.inspect")}</button>`);
      if (r.channel !== "green" && steps.length) buttons.push(`<button type="button" class="small release" ${data} data-steps="${steps.join(",")}" ${named("customs.release_after_lrn")}>${t("customs.release_after")}</button>`);
      if (r.role === "departure" && steps.length) buttons.push(`<button type="button" class="small secondary reject" ${data} ${named("customs.reject_lrn")}>${t("customs.reject")}</button>`);
      const wait = buttons.length ? "" : `<span class="muted why">${esc(waitingReason(r, declaration))}</span>`;
      return `<tr data-id="${esc(r.declaration_id)}">
        <td><button type="button" class="link detail" ${data} ${named("customs.detail_lrn")}>${esc(r.lrn)}</button></td>
        <td>${Corridor.date(expectedArrival(declaration, here))}</td><td>${goods(declaration)}</td><td>${containers(declaration)}</td>
        <td>${esc(t(`customs.role_${r.role}`))}</td><td>${esc(Corridor.word("declaration.state", r.state))}${r.arrived ? ` (${esc(t("customs.arrived"))})` : ""}</td>
        <td><span class="channel channel-${esc(r.channel)}">${esc(Corridor.word("customs.channel", r.channel))}</span></td><td translate="no">${r.reasons.map(esc).join("<br>")}</td>
        <td>${buttons.join(" ")}${wait}<p class="error row-error" role="alert"></p></td></tr>`;
    }).join("");
    const rowError = (el) => el.closest("tr").querySelector(".row-error");
    for (const el of document.querySelectorAll("#expected-table button.release")) {
      el.addEventListener("click", () => busy(el, async () => {
        rowError(el).textContent = "";
        try {
          for (const step of el.dataset.steps.split(",")) {
            const current = await api(`/customs/declarations/${encodeURIComponent(el.dataset.id)}`);
            if (step === "arrive" && current.arrived_at_next) continue;
            await act(el.dataset.id, step);
          }
        } catch (e) { rowError(el).textContent = e.message; return; }
        await refresh();
      }));
    }
    for (const el of document.querySelectorAll("#expected-table button.inspect")) {
      el.addEventListener("click", () => busy(el, async () => {
        rowError(el).textContent = "";
        try {
          const current = await api(`/customs/declarations/${encodeURIComponent(el.dataset.id)}`);
          if (current.state === "released" && !current.arrived_at_next) await act(el.dataset.id, "arrive");
        } catch (e) { rowError(el).textContent = e.message; return; }
        $("inspection-form").hidden = false;
        $("inspection-form").dataset.id = el.dataset.id;
        $("inspection-lrn").textContent = el.dataset.lrn;
        $("inspection-error").textContent = "";
        $("inspection-seals").focus();
      }));
    }
    for (const el of document.querySelectorAll("#expected-table button.reject")) {
      el.addEventListener("click", () => busy(el, async () => {
        if (!confirm(t("customs.confirm_reject", { lrn: el.dataset.lrn }))) return;
        rowError(el).textContent = "";
        try {
          const current = await api(`/customs/declarations/${encodeURIComponent(el.dataset.id)}`);
          if (current.state === "lodged") await act(el.dataset.id, "accept");
          await act(el.dataset.id, "reject", { reason: "rejected at the office of departure" });
        } catch (e) { rowError(el).textContent = e.message; return; }
        await refresh();
      }));
    }
    for (const el of document.querySelectorAll("#expected-table button.detail")) el.addEventListener("click", () => showDetail(el.dataset.id));
  }

  function act(declaration, action, details = {}) {
    return api(`/customs/declarations/${encodeURIComponent(declaration)}/actions`, {
      method: "POST", body: JSON.stringify({ action, office_id: $("office-select").value, details }),
    });
  }

  async function recordInspection() {
    const id = $("inspection-form").dataset.id;
    $("inspection-error").textContent = "";
    if ($("inspection-result").value === "not_conform" && !confirm(t("customs.confirm_not_conform"))) return;
    try {
      const current = await api(`/customs/declarations/${encodeURIComponent(id)}`);
      if (current.state === "lodged") await act(id, "accept");
      await act(id, "check", { result: $("inspection-result").value, seals_intact: $("inspection-seals").checked, note: $("inspection-note").value });
      $("inspection-form").hidden = true;
    } catch (e) { $("inspection-error").textContent = e.message; return; }
    await refresh();
  }

  // History: declarations on which this authority's offices have already acted.
  function renderHistory() {
    const mine = Object.values(state.declarations).filter((d) => d.offices.some((o) => o.country === state.country && (o.index < d.next_office || ["discharged", "rejected", "cancelled"].includes(d.state))));
    $("history-empty").hidden = mine.length > 0;
    $("history-table").querySelector("tbody").innerHTML = mine.map((d) => {
      const done = d.offices.filter((o) => o.country === state.country && (o.index < d.next_office || d.state === "discharged")).map((o) => esc(o.name));
      return `<tr><td><button type="button" class="link detail" data-id="${esc(d.id)}" aria-label="${esc(t("customs.detail_lrn", { lrn: d.lrn }))}">${esc(d.lrn)}</button></td>
        <td>${esc(d.state)}</td><td>${done.join("<br>") || "-"}</td><td>${Corridor.date(d.updated_at)}</td></tr>`;
    }).join("");
    for (const el of document.querySelectorAll("#history-table button.detail")) el.addEventListener("click", () => showDetail(el.dataset.id));
  }

  // A declaration's offices and its signed log records, checked against the whole chain.
  async function showDetail(id) {
    $("customs-detail").hidden = false;
    $("detail-error").textContent = ""; $("detail-verify").textContent = "";
    try {
      const [declaration, records] = await Promise.all([api(`/customs/declarations/${encodeURIComponent(id)}`), api(`/customs/declarations/${encodeURIComponent(id)}/log`)]);
      $("detail-lrn").textContent = declaration.lrn;
      const names = Object.fromEntries(declaration.offices.map((o) => [o.id, `${o.name} (${o.country})`]));
      $("detail-summary").innerHTML = `${esc(Corridor.word("declaration.state", declaration.state))} · ${t("shipment.guarantee")} ${esc(Corridor.word("declaration.guarantee", declaration.guarantee_state))} · ${declaration.offices.map((o) => `${o.index + 1}. <span translate="no">${esc(o.name)}</span> (${esc(o.country)}, ${esc(Corridor.word("customs.channel", o.channel))})`).join(" → ")}`;
      $("detail-log").querySelector("tbody").innerHTML = records.map((r) => `<tr data-seq="${r.seq}">
        <td class="num">${r.seq}</td><td>${Corridor.date(r.created_at)}</td><td>${esc(r.action)}</td><td>${esc(r.office_id ? names[r.office_id] || officeName(r.office_id) : "-")}</td>
        <td>${esc(r.actor)}</td><td><code>${esc(r.key_id)}</code></td><td><code title="${esc(r.signature)}">${esc(r.signature.slice(0, 16))}…</code></td>
        <td><code title="${esc(r.record_hash)}">${esc(r.record_hash.slice(0, 16))}…</code></td><td class="verified">…</td></tr>`).join("");
      $("detail-verify-button").dataset.id = id;
      $("customs-detail").scrollIntoView({ block: "nearest" });
      $("detail-title").focus();
    } catch (e) { $("detail-error").textContent = e.message; }
  }

  async function verifyDetail() {
    $("detail-error").textContent = "";
    try {
      const report = await api("/customs/log/verify");
      for (const row of document.querySelectorAll("#detail-log tbody tr")) {
        const good = report.ok || (report.first_bad_record !== null && Number(row.dataset.seq) < report.first_bad_record);
        row.querySelector(".verified").textContent = good ? t("customs.signature_ok") : t("customs.signature_bad");
        row.querySelector(".verified").className = good ? "verified ok" : "verified late";
      }
      $("detail-verify").textContent = report.ok
        ? t("customs.verify_ok", { records: Corridor.num(report.records), root: String(report.tree_root).slice(0, 16) })
        : t("customs.verify_bad", { seq: report.first_bad_record, reason: report.reason });
    } catch (e) { $("detail-error").textContent = e.message; }
  }

  // -- KPI charts, inline SVG from the office's signed log and the declarations' channels -------
  function bars(title, labels, values, colours) {
    const w = 320, h = 150, pad = 24, max = Math.max(1, ...values), bw = (w - pad) / labels.length;
    const body = values.map((v, i) => {
      const bh = ((h - 2 * pad) * v) / max, x = pad + i * bw + 4, y = h - pad - bh;
      return `<rect x="${x}" y="${y}" width="${bw - 8}" height="${bh}" fill="${colours ? colours[i] : "#0b6e8a"}"><title>${esc(labels[i])}: ${v}</title></rect>
        <text x="${x + (bw - 8) / 2}" y="${y - 3}" text-anchor="middle" font-size="11">${v}</text>
        <text x="${x + (bw - 8) / 2}" y="${h - 8}" text-anchor="middle" font-size="10">${esc(labels[i])}</text>`;
    }).join("");
    return `<figure class="chart kpi"><svg viewBox="0 0 ${w} ${h}" width="100%" role="img" aria-label="${esc(title)}: ${labels.map((l, i) => `${l} ${values[i]}`).join(", ")}">
      <line x1="${pad}" y1="${h - pad}" x2="${w}" y2="${h - pad}" stroke="#5b6b7c"/>${body}</svg><figcaption class="muted">${esc(title)}</figcaption></figure>`;
  }

  async function loadKpis() {
    const here = office();
    if (!here) return;
    const records = (await api(`/customs/log?office_id=${encodeURIComponent(here.id)}&limit=1000`)).reverse();
    const started = {}, hours = [], perDay = {};
    for (const r of records) {
      if (r.action === "arrive" || r.action === "accept") started[r.declaration_id] ??= r.created_at;
      if (RELEASING.includes(r.action)) {
        if (started[r.declaration_id]) hours.push((Date.parse(r.created_at) - Date.parse(started[r.declaration_id])) / 3.6e6);
        const day = r.created_at.slice(0, 10);
        perDay[day] = (perDay[day] || 0) + 1;
      }
    }
    const edges = [1, 4, 12, 24];
    const bucketLabels = ["<1 h", "1-4 h", "4-12 h", "12-24 h", ">24 h"];
    const buckets = bucketLabels.map(() => 0);
    for (const h of hours) buckets[edges.filter((e) => h >= e).length] += 1;
    const channels = { green: 0, yellow: 0, red: 0 };
    for (const d of Object.values(state.declarations)) {
      for (const o of d.offices) if (o.id === here.id && o.channel in channels) channels[o.channel] += 1;
    }
    const days = Object.keys(perDay).sort().slice(-7);
    $("kpi-charts").innerHTML = [
      bars(t("customs.kpi_release_time"), bucketLabels, buckets),
      bars(t("customs.kpi_channels"), Object.keys(channels).map((c) => Corridor.word("customs.channel", c)), Object.values(channels), ["#2e7d32", "#8a6d00", "#b3261e"]),
      days.length ? bars(t("customs.kpi_per_day"), days.map((d) => Corridor.day(d + "T00:00:00Z")), days.map((d) => perDay[d])) : `<p class="muted">${t("customs.kpi_none")}</p>`,
    ].join("");
  }

  $("office-select").addEventListener("change", () => { $("inspection-form").hidden = true; refresh(); });
  $("inspection-cancel").addEventListener("click", () => { $("inspection-form").hidden = true; });
  $("inspection-form").addEventListener("submit", (ev) => { ev.preventDefault(); busy($("inspection-submit"), recordInspection); });
  $("detail-verify-button").addEventListener("click", () => busy($("detail-verify-button"), verifyDetail));
  $("detail-close").addEventListener("click", () => { $("customs-detail").hidden = true; });
  $("customs-refresh").addEventListener("click", () => busy($("customs-refresh"), refresh));

  return { open, clear };
})();
