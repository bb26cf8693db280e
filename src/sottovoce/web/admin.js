// Workspace admin (admin keys only): retention switches with the server's own refusals, keys,
// the settings audit log, and usage per product per day.
import { getJson, request } from "./api.js";
import * as agents from "./agents-admin.js";
import { $, clear, el, showError, when } from "./dom.js";

const SWITCHES = {
  "admin-zdr": "zdr_enabled",
  "admin-keep-audio": "keep_input_audio",
  "admin-uncovered": "allow_uncovered_providers",
};

export function init(state) {
  for (const [id, setting] of Object.entries(SWITCHES)) {
    $(id).onchange = (event) => patch(state, { [setting]: event.target.checked });
  }
  $("admin-retention-form").onsubmit = (event) => {
    event.preventDefault();
    const value = $("admin-retention-days").value.trim();
    patch(state, { history_retention_days: value ? Number(value) : null });
  };
  $("admin-key-form").onsubmit = (event) => {
    event.preventDefault();
    createKey(state);
  };
}

export async function show(state) {
  const ws = await state.refresh();
  render(ws);
  $("admin-new-key").hidden = true;
  await Promise.all([loadKeys(state), loadAudit(), loadUsage(), loadAgents()]);
}

function render(ws) {
  for (const [id, setting] of Object.entries(SWITCHES)) $(id).checked = ws[setting];
  $("admin-retention-days").value = ws.history_retention_days || "";
  const zdrNote = ws.restricted
    ? `ZDR was withdrawn by the operator: ${ws.restricted_reason || "no reason given"}.`
    : ws.zdr_available
      ? "ZDR is available on this plan."
      : "ZDR needs the enterprise plan (the operator sets plans).";
  $("admin-plan").textContent = `Plan: ${ws.plan}. ${zdrNote}`;
}

async function patch(state, changes) {
  showError("admin-error", null);
  try {
    await request("/v1/workspace", { method: "PATCH", json: changes });
  } catch (error) {
    showError("admin-error", error); // the server's own reason (plan, restriction...)
  }
  render(await state.refresh());
  await loadAudit();
}

async function loadKeys(state) {
  showError("admin-keys-error", null);
  const { keys } = await getJson("/v1/workspace/keys");
  const body = $("admin-keys");
  clear(body);
  for (const key of keys) {
    const revoke = key.revoked_at_unix || key.is_current
      ? null
      : el("button", { type: "button", class: "danger", onclick: () => revokeKey(state, key.key_id) }, "Revoke");
    body.append(
      el("tr", { dataset: { key: key.key_id } },
        el("td", {}, `${key.prefix}…`, key.is_current ? " (this tab)" : ""),
        el("td", {}, key.is_admin ? "admin" : "member"),
        el("td", {}, when(key.created_at_unix)),
        el("td", {}, key.revoked_at_unix ? `revoked ${when(key.revoked_at_unix)}` : "active"),
        el("td", {}, revoke)),
    );
  }
}

async function createKey(state) {
  try {
    const created = await getJson("/v1/workspace/keys", {
      method: "POST",
      json: { is_admin: $("admin-key-is-admin").checked },
    });
    const shown = $("admin-new-key");
    clear(shown);
    shown.append("New key, shown this once: ", el("code", { id: "admin-new-key-value" }, created.api_key));
    shown.hidden = false;
  } catch (error) {
    showError("admin-keys-error", error);
  }
  await Promise.all([loadKeys(state), loadAudit()]);
}

async function revokeKey(state, keyId) {
  try {
    await request(`/v1/workspace/keys/${encodeURIComponent(keyId)}`, { method: "DELETE" });
  } catch (error) {
    showError("admin-keys-error", error);
  }
  await Promise.all([loadKeys(state), loadAudit()]);
}

async function loadAgents() {
  await agents.load(() => Promise.all([loadAgents(), loadAudit()]));
}

async function loadAudit() {
  const { entries } = await getJson("/v1/workspace/audit-log?limit=200");
  const body = $("admin-audit");
  clear(body);
  for (const entry of entries.reverse()) {
    body.append(
      el("tr", {},
        el("td", {}, when(entry.at_unix_ms / 1000)),
        el("td", {}, entry.actor),
        el("td", {}, entry.setting),
        el("td", {}, JSON.stringify(entry.old_value)),
        el("td", {}, JSON.stringify(entry.new_value))),
    );
  }
}

const DAYS = 14;

function unitsOf(record) {
  return {
    requests: 1,
    characters: record.input_unit === "characters" ? record.input_units || 0 : 0,
    audio: (record.input_unit === "audio_seconds" ? record.input_units || 0 : 0)
      + (record.output_unit === "audio_seconds" ? record.output_units || 0 : 0),
  };
}

async function loadUsage() {
  const start = Math.floor(Date.now() / 1000 / 86400 - (DAYS - 1)) * 86400;
  const { records } = await getJson(`/v1/usage?start_unix=${start}&limit=10000`);
  // product -> day index -> {requests, characters, audio}
  const byProduct = new Map();
  for (const record of records) {
    const at = Math.floor((record.started_at_ms ?? record.created_at_ms ?? 0) / 1000);
    const day = Math.floor((at - start) / 86400);
    if (day < 0 || day >= DAYS) continue;
    if (!byProduct.has(record.product)) byProduct.set(record.product, Array.from({ length: DAYS }, () => ({ requests: 0, characters: 0, audio: 0 })));
    const cell = byProduct.get(record.product)[day];
    const units = unitsOf(record);
    cell.requests += units.requests;
    cell.characters += units.characters;
    cell.audio += units.audio;
  }
  const place = $("admin-usage");
  clear(place);
  if (!byProduct.size) place.append(el("p", { class: "muted" }, "No requests in the last 14 days."));
  for (const [product, days] of [...byProduct.entries()].sort()) {
    const totals = days.reduce((a, d) => ({ requests: a.requests + d.requests, characters: a.characters + d.characters, audio: a.audio + d.audio }), { requests: 0, characters: 0, audio: 0 });
    const summary = [`${totals.requests} requests`];
    if (totals.characters) summary.push(`${totals.characters} characters`);
    if (totals.audio) summary.push(`${totals.audio.toFixed(1)} s of audio`);
    const charts = [chart(days, start, "requests", "requests")];
    if (totals.characters) charts.push(chart(days, start, "characters", "characters"));
    if (totals.audio) charts.push(chart(days, start, "audio", "audio seconds"));
    place.append(el("h4", {}, `${product || "other"}: ${summary.join(", ")}`), el("div", { class: "charts" }, ...charts));
  }
}

function chart(days, start, key, unit) {
  const most = Math.max(1, ...days.map((d) => d[key]));
  const bars = el("div", { class: "chart", role: "img", "aria-label": `${unit} per day` });
  const labels = el("div", { class: "chart-labels" });
  days.forEach((day, i) => {
    const value = key === "audio" ? day[key].toFixed(1) : day[key];
    const bar = el("div", { class: "bar", title: `${value} ${unit}` });
    bar.style.height = `${(100 * day[key]) / most}%`; // CSSOM, allowed by the CSP
    bars.append(el("div", { class: "day" }, bar));
    const date = new Date((start + i * 86400) * 1000);
    labels.append(el("span", {}, (DAYS - 1 - i) % 2 ? "" : `${date.getUTCMonth() + 1}/${date.getUTCDate()}`));
  });
  return el("div", { class: "chart-box" }, el("div", { class: "muted" }, unit), bars, labels);
}
