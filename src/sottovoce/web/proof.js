// What the server applies to this workspace, and the models' declared retention.
import { getJson } from "./api.js";
import { $, clear, el } from "./dom.js";

export function init() {
  $("proof-url").textContent = location.origin;
}

export async function show(state) {
  const ws = state.workspace;
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
