// The workspace's agents and what their conversations may leave behind (ElevenLabs'
// platform_settings.privacy), each change going to the workspace's audit log.
import { getJson, request } from "./api.js";
import { $, clear, el, showError } from "./dom.js";

const FLAGS = [
  ["zero_retention_mode", "zero retention"],
  ["record_voice", "record audio"],
  ["delete_audio", "never keep audio"],
  ["delete_transcript_and_pii", "redact personal data"],
];

export async function load(onChange) {
  showError("agents-error", null);
  const { agents } = await getJson("/v1/convai/agents?page_size=100");
  const full = await Promise.all(agents.map((a) => getJson(`/v1/convai/agents/${encodeURIComponent(a.agent_id)}`)));
  const body = $("admin-agents");
  clear(body);
  $("admin-agents-empty").hidden = full.length > 0;
  for (const agent of full) body.append(row(agent, onChange));
}

function row(agent, onChange) {
  const id = agent.agent_id;
  const privacy = (agent.platform_settings && agent.platform_settings.privacy) || {};
  const boxes = FLAGS.map(([name, label]) => {
    const box = el("input", { type: "checkbox", "data-setting": name, checked: privacy[name] === true });
    return el("label", { class: "switch" }, box, label);
  });
  const days = el("input", {
    type: "number", min: "-1", max: "36500", "data-setting": "retention_days",
    value: privacy.retention_days ?? "", "aria-label": "retention days",
  });
  const save = async () => {
    showError("agents-error", null);
    const changes = { retention_days: days.value === "" ? undefined : Number(days.value) };
    for (const box of tr.querySelectorAll("input[type=checkbox]")) changes[box.dataset.setting] = box.checked;
    try {
      await request(`/v1/convai/agents/${encodeURIComponent(id)}`, {
        method: "PATCH",
        json: { platform_settings: { privacy: changes } },
      });
    } catch (error) {
      showError("agents-error", error);
    }
    await onChange();
  };
  const remove = async () => {
    try {
      await request(`/v1/convai/agents/${encodeURIComponent(id)}`, { method: "DELETE" });
    } catch (error) {
      showError("agents-error", error);
    }
    await onChange();
  };
  const tr = el(
    "tr",
    { dataset: { agent: id } },
    el("td", {}, agent.name || id),
    el("td", {}, ...boxes),
    el("td", {}, days, " days (-1: until deleted)"),
    el("td", {},
      el("button", { type: "button", class: "quiet", "data-action": "save", onclick: save }, "Save"), " ",
      el("button", { type: "button", class: "danger", "data-action": "delete", onclick: remove }, "Delete")),
  );
  return tr;
}
