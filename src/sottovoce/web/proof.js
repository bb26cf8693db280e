// What the server applies to this workspace, and the models' declared retention.
import { getJson } from "./api.js";
import { $, clear, el, saveBlob, showError, when } from "./dom.js";

let polling = null;
let lastReport = null;

export function init() {
  $("proof-url").textContent = location.origin;
  $("proof-audit-form").onsubmit = (event) => {
    event.preventDefault();
    startAudit();
  };
  $("proof-audit-download").onclick = () => {
    if (!lastReport) return;
    const blob = new Blob([JSON.stringify(lastReport, null, 2)], { type: "application/json" });
    saveBlob(blob, "sottovoce-audit.json");
  };
}

export function stop() {
  if (polling) clearTimeout(polling);
  polling = null;
}

async function startAudit() {
  showError("proof-audit-error", null);
  const only = $("proof-audit-only").value.split(",").map((p) => p.trim()).filter(Boolean);
  try {
    showRun(await getJson("/v1/workspace/audit", { method: "POST", json: { only } }));
  } catch (error) {
    showError("proof-audit-error", error);
  }
}

async function poll() {
  stop();
  try {
    showRun(await getJson("/v1/workspace/audit"));
  } catch (error) {
    showError("proof-audit-error", error);
  }
}

function resultOf(r) {
  if (r.leaks.length) return `LEAK: ${r.leaks.join("; ")}`;
  if (r.expected_in_history) return r.found_in_history ? "kept in history (expected)" : "missing from history";
  return "no trace";
}

function showRun(run) {
  if (run.state === "none") return;
  const running = run.state === "running";
  $("proof-audit-go").disabled = running;
  lastReport = run.report;
  $("proof-audit-download").disabled = !lastReport;
  const scope = run.only.length ? ` (probes: ${run.only.join(", ")})` : "";
  const report = run.report;
  const verdict = running ? "running…" : run.state === "failed" ? "failed to run" : report.ok ? "PASS" : "FAIL";
  $("proof-audit-state").textContent = `Audit started ${when(run.started_at_unix)}${scope}: ${verdict}`
    + (report ? `; ${report.places_searched} places searched, ${report.control_found} control markers found` : "");
  $("proof-audit-problems").textContent = report ? report.problems.join(" ") : "";
  const body = $("proof-audit-results");
  clear(body);
  $("proof-audit-table").hidden = !report;
  for (const r of (report && report.results) || []) {
    body.append(el("tr", { class: r.leaks.length ? "leak" : "" }, el("td", {}, r.run), el("td", {}, r.probe),
      el("td", {}, r.path), el("td", {}, String(r.status)), el("td", {}, resultOf(r))));
  }
  if (running) polling = setTimeout(poll, 2000);
}

export async function show(state) {
  const ws = state.workspace;
  const allowed = ws.is_admin_key && ws.zdr_enabled;
  $("proof-audit-form").hidden = !allowed;
  $("proof-audit-note").textContent = allowed
    ? "Runs against this server; it takes from one to several minutes."
    : "Running it from here needs an admin key of a workspace with zero data retention.";
  if (allowed) await poll();
  const settings = $("proof-settings");
  clear(settings);
  const rows = [
    ["Workspace", `${ws.name} (${ws.workspace_id})`],
    ["Plan", ws.plan],
    ["Zero data retention", ws.zdr_enabled ? "on" : "off"],
    ["ZDR available", ws.zdr_available ? "yes" : `no${ws.restricted_reason ? `: ${ws.restricted_reason}` : ""}`],
    ["Uncovered providers allowed", ws.allow_uncovered_providers ? "yes" : "no"],
    ["Input audio kept", ws.keep_input_audio ? "yes (without ZDR)" : "no"],
    ["History deleted after", ws.history_retention_days ? `${ws.history_retention_days} days` : "never (until deleted)"],
  ];
  for (const [name, value] of rows) settings.append(el("dt", {}, name), el("dd", {}, value));
  const models = await getJson("/v1/models", { bearer: true });
  const body = $("proof-models");
  clear(body);
  for (const model of models.data || []) {
    const declared = Object.entries(model.retention || {}).map(([mode, value]) => `${mode}: ${value}`);
    const usable = Object.entries(model.usable || {}).filter(([, ok]) => ok).map(([mode]) => mode);
    body.append(
      el("tr", {}, el("td", {}, model.id), el("td", {}, model.capability),
        el("td", {}, declared.join(", ")), el("td", {}, usable.join(", ") || "no")),
    );
  }
}
