// More of the voice products: text-to-dialogue, voice design (three previews, keep one) and
// approximate voice matching from samples (a background job whose progress is polled).
import { getJson, request } from "./api.js";
import { $, clear, el, holdUrl, showError } from "./dom.js";

let voicesChanged = () => {};
let polling = null;

export function init(onVoicesChanged) {
  voicesChanged = onVoicesChanged;
  $("dialogue-form").onsubmit = (event) => {
    event.preventDefault();
    dialogue();
  };
  $("design-form").onsubmit = (event) => {
    event.preventDefault();
    design();
  };
  $("clone-form").onsubmit = (event) => {
    event.preventDefault();
    clone();
  };
}

export function stop() {
  if (polling) clearTimeout(polling);
  polling = null;
}

// The dialogue's voices follow the voice library.
export function setVoices(voices) {
  ["dialogue-voice-1", "dialogue-voice-2"].forEach((id, n) => {
    const select = $(id);
    const kept = select.value;
    clear(select);
    for (const voice of voices) select.append(el("option", { value: voice.voice_id }, voice.name));
    // Two different voices to start with.
    select.value = kept || (voices[n] || voices[0] || {}).voice_id || "";
  });
}

async function dialogue() {
  showError("dialogue-error", null);
  const inputs = [1, 2]
    .map((n) => ({ text: $(`dialogue-text-${n}`).value.trim(), voice_id: $(`dialogue-voice-${n}`).value }))
    .filter((turn) => turn.text);
  $("dialogue-go").disabled = true;
  try {
    const response = await request("/v1/text-to-dialogue?output_format=mp3_44100_128", { method: "POST", json: { inputs } });
    const audio = $("dialogue-audio");
    audio.src = holdUrl("dialogue", await response.blob());
    await audio.play();
  } catch (error) {
    showError("dialogue-error", error);
  } finally {
    $("dialogue-go").disabled = false;
  }
}

function previewAudio(preview, slot) {
  const bytes = Uint8Array.from(atob(preview.audio_base_64), (c) => c.charCodeAt(0));
  return el("audio", { controls: true, src: holdUrl(slot, new Blob([bytes], { type: preview.media_type })) });
}

async function design() {
  showError("design-error", null);
  const place = $("design-previews");
  clear(place);
  const description = $("design-description").value.trim();
  $("design-go").disabled = true;
  try {
    const result = await getJson("/v1/text-to-voice/design", {
      method: "POST",
      json: { voice_description: description, auto_generate_text: true },
    });
    result.previews.forEach((preview, i) => {
      const keep = el("button", { type: "button", class: "quiet", onclick: () => save(preview.generated_voice_id, description) }, "Keep this voice");
      place.append(el("div", { class: "preview" }, `Preview ${i + 1}`, previewAudio(preview, `design-${i}`), keep));
    });
  } catch (error) {
    showError("design-error", error);
  } finally {
    $("design-go").disabled = false;
  }
}

async function save(generatedVoiceId, description) {
  const name = $("design-name").value.trim() || "Designed voice";
  try {
    const voice = await getJson("/v1/text-to-voice", {
      method: "POST",
      json: { voice_name: name, voice_description: description, generated_voice_id: generatedVoiceId },
    });
    $("design-saved").textContent = `Saved as ${name} (${voice.voice_id}); it is in the voice list.`;
    await voicesChanged();
  } catch (error) {
    showError("design-error", error);
  }
}

async function clone() {
  showError("clone-error", null);
  const form = new FormData();
  form.append("name", $("clone-name").value.trim() || "Matched voice");
  for (const file of $("clone-files").files) form.append("files", file, file.name);
  $("clone-go").disabled = true;
  try {
    const voice = await (await request("/v1/voices/add", { method: "POST", body: form })).json();
    watch(voice.voice_id);
  } catch (error) {
    showError("clone-error", error);
    $("clone-go").disabled = false;
  }
}

// Polls the job's state and progress until it is done.
async function watch(voiceId) {
  stop();
  try {
    const voice = await getJson(`/v1/voices/${encodeURIComponent(voiceId)}`);
    const tuning = voice.fine_tuning || {};
    const state = Object.values(tuning.state || {})[0] || "unknown";
    const progress = Object.values(tuning.progress || {})[0] || 0;
    $("clone-progress").value = progress;
    $("clone-state").textContent = `${state} (${Math.round(progress * 100)}%)`;
    if (state === "fine_tuned" || state === "failed") {
      $("clone-go").disabled = false;
      if (state === "fine_tuned") await voicesChanged();
      return;
    }
    polling = setTimeout(() => watch(voiceId), 2000);
  } catch (error) {
    showError("clone-error", error);
    $("clone-go").disabled = false;
  }
}
