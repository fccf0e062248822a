// Corridor what-if simulation page: start runs as background jobs, follow them, plot the results.
"use strict";

// The API client, the shared login and escaping come from common.js (window.Corridor).
const COLOURS = ["#0b6e8a", "#d9822b", "#6a4c93", "#2a9d8f", "#c0392b", "#7a4b22", "#555"];
const $ = (id) => document.getElementById(id);
const { api, esc, t } = Corridor;
const fmt = (x, d = 2) => (x === null || x === undefined ? "-" : new Intl.NumberFormat(Corridor.lang() === "en" ? "en-GB" : Corridor.lang(), { maximumFractionDigits: d }).format(Number(x)));
// A code from the API (a figure's key, a job state) in the page's language where catalogued.
const word = (prefix, code) => { const key = `${prefix}_${code}`; const text = t(key); return text === key ? String(code).replace(/_/g, " ") : text; };
let last = null;  // the results shown, redrawn when the language changes
let scenarios = [];

function table(rows, columns) {
  const head = columns.map(([key, label]) => `<th class="${key === columns[0][0] ? "" : "num"}">${esc(label)}</th>`).join("");
  const body = rows.map((r) => "<tr>" + columns.map(([key], i) => `<td class="${i ? "num" : ""}">${typeof r[key] === "number" ? fmt(r[key]) : esc(r[key] ?? "-")}</td>`).join("") + "</tr>").join("");
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

// Horizontal bars: groups (one per label) of values (one per summary).
function hbars(labels, series, max, unit = "") {
  const rowH = 14 * series.length + 8, left = 230, width = 640, h = labels.length * rowH + 24;
  const x = (v) => left + (Math.min(v, max) / max) * (width - left - 40);
  let svg = `<svg viewBox="0 0 ${width} ${h}" width="100%" role="img">`;
  labels.forEach((label, i) => {
    svg += `<text x="${left - 6}" y="${i * rowH + 14}" text-anchor="end">${esc(label)}</text>`;
    series.forEach((s, k) => {
      const v = s.values[i] ?? 0;
      svg += `<rect x="${left}" y="${i * rowH + 4 + k * 14}" width="${x(v) - left}" height="12" fill="${COLOURS[k]}"><title>${esc(s.name)}: ${fmt(v, 3)}${unit}</title></rect>`;
      svg += `<text x="${x(v) + 4}" y="${i * rowH + 14 + k * 14}">${fmt(v, 2)}${unit}</text>`;
    });
  });
  svg += `<line x1="${x(max)}" x2="${x(max)}" y1="0" y2="${h - 20}" stroke="#c0392b" stroke-dasharray="3 3"/>`;
  return svg + legend(series.map((s) => s.name), h - 6, left) + "</svg>";
}

function legend(names, y, x0) {
  return names.map((n, k) => `<rect x="${x0 + k * 160}" y="${y - 9}" width="10" height="10" fill="${COLOURS[k]}"/><text x="${x0 + k * 160 + 14}" y="${y}">${esc(n)}</text>`).join("");
}

function transit(summaries) {
  const flows = summaries[0].od.map((r) => r.flow);
  const max = Math.max(...summaries.flatMap((s) => s.od.map((r) => r.p90_d || 0)), 1);
  const rowH = 12 * summaries.length + 8, left = 230, width = 640, h = flows.length * rowH + 40;
  const x = (v) => left + (v / max) * (width - left - 20);
  let svg = `<svg viewBox="0 0 ${width} ${h}" width="100%" role="img">`;
  flows.forEach((flow, i) => {
    svg += `<text x="${left - 6}" y="${i * rowH + 14}" text-anchor="end">${esc(flow)}</text>`;
    summaries.forEach((s, k) => {
      const r = s.od.find((o) => o.flow === flow);
      if (!r || r.p50_d === null) return;
      const y = i * rowH + 10 + k * 12;
      svg += `<line x1="${x(r.p10_d)}" x2="${x(r.p90_d)}" y1="${y}" y2="${y}" stroke="${COLOURS[k]}" stroke-width="5" opacity=".45"/>`;
      svg += `<circle cx="${x(r.p50_d)}" cy="${y}" r="4" fill="${COLOURS[k]}"><title>${esc(s.scenario)} ${esc(flow)}: ${esc(t("sim.median_days", { d: fmt(r.p50_d, 1) }))}</title></circle>`;
    });
  });
  for (let d = 0; d <= max; d += max > 60 ? 20 : 5) svg += `<text x="${x(d)}" y="${h - 22}" text-anchor="middle">${d}</text>`;
  return svg + legend(summaries.map((s) => s.scenario), h - 4, left) + "</svg>";
}

function stock(summary) {
  const days = summary.stock.days, ports = Object.entries(summary.stock.ports).filter(([, v]) => v.some((x) => x > 0));
  const max = Math.max(1, ...ports.flatMap(([, v]) => v)) / 1000, width = 640, h = 220, left = 50;
  const x = (d) => left + (d / Math.max(1, days[days.length - 1] || 1)) * (width - left - 10);
  const y = (v) => h - 30 - (v / 1000 / max) * (h - 50);
  let svg = `<svg viewBox="0 0 ${width} ${h}" width="100%" role="img">`;
  ports.forEach(([, values], k) => {
    svg += `<polyline fill="none" stroke="${COLOURS[k % COLOURS.length]}" stroke-width="1.5" points="${values.map((v, i) => `${x(days[i])},${y(v)}`).join(" ")}"/>`;
  });
  svg += `<text x="4" y="${y(max * 1000) + 4}">${fmt(max, 0)} kt</text><text x="4" y="${h - 30}">0</text>`;
  return svg + legend(ports.map(([p]) => p), h - 6, left) + "</svg>";
}

function render(summaries, diff) {
  last = [summaries, diff];
  $("sim-results").hidden = false;
  $("sim-volume").innerHTML = table(
    Object.keys(summaries[0].volume).filter((k) => !k.endsWith("_ci")).map((k) => Object.fromEntries([["figure", word("sim.figure", k)], ...summaries.map((s) => [s.scenario, s.volume[k]])])),
    [["figure", t("sim.col_figure")], ...summaries.map((s) => [s.scenario, s.scenario])],
  );
  const names = [...new Set(summaries.flatMap((s) => s.bottlenecks.slice(0, 10).map((b) => b.resource)))];
  $("sim-util").innerHTML = hbars(names, summaries.map((s) => ({ name: s.scenario, values: names.map((n) => (s.resources.find((r) => r.resource === n) || {}).utilisation || 0) })), 1.0);
  $("sim-bottlenecks").innerHTML = summaries.map((s) => `<h3>${esc(s.scenario)}</h3>` + table(s.bottlenecks, [["resource", t("sim.col_resource")], ["utilisation", t("sim.col_utilisation")], ["tonnes", t("sim.col_tonnes")], ["capacity_t", t("sim.col_capacity")], ["headroom", t("sim.col_headroom")], ["mean_wait_h", t("sim.col_wait")]])).join("");
  $("sim-transit").innerHTML = transit(summaries);
  const ports = summaries[0].ports.map((p) => p.port);
  $("sim-ports").innerHTML = hbars(ports, summaries.map((s) => ({ name: s.scenario, values: ports.map((p) => ((s.ports.find((r) => r.port === p) || {}).tonnes || 0) / 1e6) })), Math.max(1, ...summaries.flatMap((s) => s.ports.map((p) => p.tonnes / 1e6))));
  $("sim-stock").innerHTML = summaries.map((s) => `<h3>${esc(s.scenario)}</h3>` + stock(s)).join("");
  // each chart is named by its section's heading (the numbers are in the tables beside it)
  for (const svg of $("sim-results").querySelectorAll("svg")) {
    const heading = svg.previousElementSibling && svg.previousElementSibling.tagName === "H3" ? ` (${svg.previousElementSibling.textContent})` : "";
    svg.setAttribute("aria-label", svg.closest("section").querySelector("h2").textContent + heading);
  }
  $("sim-diff-card").hidden = !diff;
  if (diff) {
    const rows = Object.entries(diff.volume).map(([k, v]) => ({ ...v, figure: word("sim.figure", k) }))
      .concat(diff.od_p50_d.map((r) => ({ ...r, figure: t("sim.diff_p50", { flow: r.flow }) })))
      .concat(diff.utilisation.slice(0, 8).map((r) => ({ ...r, figure: t("sim.diff_utilisation", { resource: r.resource }) })));
    $("sim-diff").innerHTML = table(rows, [["figure", t("sim.col_figure")], ["a", diff.a], ["b", diff.b], ["delta", t("sim.col_change")], ["pct", "%"]]);
  }
}

async function follow(jobId, index, count) {
  for (;;) {
    const job = await api(`/jobs/${encodeURIComponent(jobId)}`);
    $("sim-bar").style.width = `${((index + (job.progress || 0)) / count) * 100}%`;
    $("sim-status").textContent = `${word("sim.state", job.state)}: ${job.message || ""}`;
    if (job.state === "done") return job;
    if (job.state === "failed") throw new Error(job.error ? job.error.reason : t("sim.failed"));
    await new Promise((ok) => setTimeout(ok, 700));
  }
}

async function start(name, index, count) {
  const body = { scenario: name, replications: Number($("sim-n").value), seed: Number($("sim-seed").value), days: Number($("sim-days").value) };
  const job = await api("/simulation/runs", { method: "POST", body: JSON.stringify(body) });  // 202: the job
  return follow(job.id, index, count);
}

async function run(event) {
  event.preventDefault();
  $("sim-error").textContent = "";
  await Corridor.busy($("sim-run"), runAll);
}

async function runAll() {
  try {
    const names = [$("sim-a").value, $("sim-b").value].filter(Boolean);
    const jobs = [];
    for (let i = 0; i < names.length; i++) jobs.push(await start(names[i], i, names.length));
    const diff = jobs.length === 2 ? await api(`/simulation/diff?a=${jobs[0].id}&b=${jobs[1].id}`) : null;
    render(jobs.map((j) => j.result), diff);
    $("sim-status").textContent = word("sim.state", "done");
  } catch (error) {
    $("sim-error").textContent = error.message;
  }
}

function showChanges() {
  const s = scenarios.find((x) => x.name === $("sim-a").value);
  $("sim-changes").innerHTML = s ? s.changes.filter((c) => !c.includes(": flow ")).map((c) => `<li translate="no">${esc(c)}</li>`).join("") : "";
}

async function init() {
  await Corridor.initLanguage($("lang"));
  document.addEventListener("corridor:language", () => { if (last) render(...last); });
  Corridor.onLogout(() => location.reload());
  if (!Corridor.token()) { $("sim-login").hidden = false; $("sim-view").hidden = true; return; }
  try {
    scenarios = await api("/simulation/scenarios");
  } catch (error) {
    $("sim-error").textContent = error.message;
    return;
  }
  for (const s of scenarios) {
    $("sim-a").add(new Option(`${s.name} (${fmt(s.demand_t / 1e6, 1)} Mt)`, s.name));
    $("sim-b").add(new Option(s.name, s.name));
  }
  $("sim-a").addEventListener("change", showChanges);
  $("sim-form").addEventListener("submit", run);
  showChanges();
}

init();
