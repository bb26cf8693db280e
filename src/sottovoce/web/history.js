// History: list, search, play, download, delete. Under zero data retention there is none, and
// the page says why instead of showing an empty table.
import { getJson, request } from "./api.js";
import { $, clear, el, holdUrl, releaseUrl, saveBlob, showError, when } from "./dom.js";

const selected = new Set();

export function init() {
  $("history-search-form").onsubmit = (event) => {
    event.preventDefault();
    load();
  };
  $("history-download-selected").onclick = () => download([...selected]);
}

export async function show(state) {
  const ws = await state.refresh();
  $("history-zdr").hidden = !ws.zdr_enabled;
  $("history-list").hidden = ws.zdr_enabled;
  if (ws.zdr_enabled) {
    releaseUrl("history");
    clear($("history-rows"));
    return;
  }
  await load();
}

async function load() {
  showError("history-error", null);
  const query = new URLSearchParams({ page_size: "100" });
  const search = $("history-search").value.trim();
  if (search) query.set("search", search);
  const page = await getJson(`/v1/history?${query}`);
  selected.clear();
  $("history-download-selected").disabled = true;
  const rows = $("history-rows");
  clear(rows);
  $("history-empty").hidden = page.history.length > 0;
  for (const item of page.history) rows.append(row(item));
}

function row(item) {
  const id = item.history_item_id;
  const hasAudio = Boolean(item.content_type && item.content_type.startsWith("audio/"));
  const text = item.text || (item.details && item.details.transcript) || "";
  const pick = el("input", {
    type: "checkbox",
    "aria-label": "select",
    disabled: !hasAudio,
    onchange: (event) => {
      if (event.target.checked) selected.add(id);
      else selected.delete(id);
      $("history-download-selected").disabled = selected.size === 0;
    },
  });
  const actions = el("td", {});
  if (hasAudio) {
    actions.append(
      el("button", { type: "button", class: "quiet", "data-action": "play", onclick: () => play(id) }, "Play"),
      " ",
      el("button", { type: "button", class: "quiet", "data-action": "download", onclick: () => download([id]) }, "Download"),
      " ",
    );
  }
  actions.append(
    el("button", { type: "button", class: "danger", "data-action": "delete", onclick: () => remove(id) }, "Delete"),
  );
  return el(
    "tr",
    { dataset: { id } },
    el("td", {}, pick),
    el("td", {}, when(item.date_unix)),
    el("td", {}, item.source),
    el("td", {}, item.voice_name || item.voice_id || item.model_id || ""),
    el("td", { class: "text" }, text),
    actions,
  );
}

async function play(id) {
  try {
    const response = await request(`/v1/history/${encodeURIComponent(id)}/audio`);
    const audio = $("history-audio");
    audio.hidden = false;
    audio.src = holdUrl("history", await response.blob());
    await audio.play();
  } catch (error) {
    showError("history-error", error);
  }
}

async function download(ids) {
  if (!ids.length) return;
  try {
    const response = await request("/v1/history/download", { method: "POST", json: { history_item_ids: ids } });
    const disposition = response.headers.get("content-disposition") || "";
    const name = (disposition.match(/filename="([^"]+)"/) || [])[1] || "history";
    saveBlob(await response.blob(), name);
  } catch (error) {
    showError("history-error", error);
  }
}

async function remove(id) {
  try {
    await request(`/v1/history/${encodeURIComponent(id)}`, { method: "DELETE" });
    releaseUrl("history");
    $("history-audio").hidden = true;
    await load();
  } catch (error) {
    showError("history-error", error);
  }
}
