// The playground: speech from text (streamed as it arrives), text from a file or the
// microphone, and chat. Audio lives in object URLs that are revoked when replaced.
import { apiKey, getJson, request } from "./api.js";
import { $, clear, el, holdUrl, releaseUrl, showError } from "./dom.js";
import * as agent from "./agent.js";
import { MicSession } from "./mic.js";
import * as voicelab from "./voicelab.js";

let voices = [];
let mic = null;
let chat = [];

export function init() {
  $("tts-form").onsubmit = (event) => {
    event.preventDefault();
    speak($("tts-text").value, false);
  };
  $("tts-preview").onclick = () => {
    const voice = voices.find((v) => v.voice_id === $("tts-voice").value);
    speak(`Hello, I am ${voice ? voice.name : "this voice"}. This is how I sound.`, true);
  };
  $("tts-voice").onchange = describeVoice;
  $("stt-form").onsubmit = (event) => {
    event.preventDefault();
    transcribe();
  };
  $("sts-form").onsubmit = (event) => {
    event.preventDefault();
    changeVoice();
  };
  $("mic-start").onclick = startMic;
  $("mic-stop").onclick = stopMic;
  $("chat-form").onsubmit = (event) => {
    event.preventDefault();
    send();
  };
  $("chat-clear").onclick = () => {
    chat = [];
    clear($("chat-log"));
  };
  agent.init();
  voicelab.init(reloadVoices);
  voices = [];
  loading = null;
}

let loading = null;

// The voice and model lists, loaded once per sign-in (a second visit reuses them).
export function show() {
  if (!loading) {
    loading = loadLists().catch((error) => {
      loading = null;
      throw error;
    });
  }
  return loading;
}

async function loadLists() {
  const [listed, models] = await Promise.all([
    getJson("/v1/voices"),
    getJson("/v1/models", { bearer: true }),
    agent.load(),
  ]);
  showVoices(listed.voices);
  const modelSelect = $("tts-model");
  clear(modelSelect);
  modelSelect.append(el("option", { value: "" }, "the voice's own engine"));
  const chatSelect = $("chat-model");
  clear(chatSelect);
  for (const model of models.data || []) {
    if (model.capability === "tts") modelSelect.append(el("option", { value: model.id }, model.id));
    if (model.capability === "chat") chatSelect.append(el("option", { value: model.id }, model.id));
  }
}

// Stop whatever is live (sign out).
export function stop() {
  agent.hangUp();
  voicelab.stop();
  if (mic) mic.close();
  mic = null;
  voices = [];
  loading = null;
}

function showVoices(listed) {
  voices = listed;
  const voiceSelect = $("tts-voice");
  const kept = voiceSelect.value;
  clear(voiceSelect);
  for (const voice of voices) {
    const l = voice.labels || {};
    const labels = [l.gender, l.age, l.accent].filter(Boolean).join(", ").replaceAll("_", " ");
    voiceSelect.append(el("option", { value: voice.voice_id }, labels ? `${voice.name} (${labels})` : voice.name));
  }
  if (kept) voiceSelect.value = kept;
  describeVoice();
  voicelab.setVoices(voices);
}

// A voice was designed or matched: the lists show it.
async function reloadVoices() {
  showVoices((await getJson("/v1/voices")).voices);
}

function describeVoice() {
  const voice = voices.find((v) => v.voice_id === $("tts-voice").value);
  $("tts-voice-info").textContent = voice ? voice.description || "" : "";
}

async function speak(text, preview) {
  showError("tts-error", null);
  const audio = $("tts-audio");
  const format = $("tts-format").value;
  const body = { text, voice_settings: { speed: Number($("tts-speed").value) || 1 } };
  if ($("tts-model").value) body.model_id = $("tts-model").value;
  const query = new URLSearchParams({ output_format: format });
  if (preview) query.set("enable_logging", "false"); // a preview is never kept
  const voice = encodeURIComponent($("tts-voice").value);
  $("tts-go").disabled = true;
  try {
    if (format.startsWith("mp3") && window.MediaSource && MediaSource.isTypeSupported("audio/mpeg")) {
      const response = await request(`/v1/text-to-speech/${voice}/stream?${query}`, { method: "POST", json: body });
      await playStream(audio, response);
    } else {
      const response = await request(`/v1/text-to-speech/${voice}?${query}`, { method: "POST", json: body });
      audio.src = holdUrl("tts", await response.blob());
      await audio.play();
    }
  } catch (error) {
    showError("tts-error", error);
  } finally {
    $("tts-go").disabled = false;
  }
}

// Plays MP3 as it arrives: each chunk goes into a MediaSource buffer as soon as it is read.
async function playStream(audio, response) {
  const source = new MediaSource();
  releaseUrl("tts");
  audio.src = holdUrl("tts", source);
  await new Promise((resolve) => source.addEventListener("sourceopen", resolve, { once: true }));
  const buffer = source.addSourceBuffer("audio/mpeg");
  const reader = response.body.getReader();
  let started = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer.appendBuffer(value);
    await new Promise((resolve) => buffer.addEventListener("updateend", resolve, { once: true }));
    if (!started) {
      started = true;
      audio.play().catch(() => {});
    }
  }
  if (source.readyState === "open") source.endOfStream();
}

async function transcribe() {
  showError("stt-error", null);
  $("stt-result").textContent = "";
  const file = $("stt-file").files[0];
  if (!file) return;
  const form = new FormData();
  form.append("file", file, file.name || "audio");
  form.append("model_id", "scribe_v1");
  $("stt-go").disabled = true;
  try {
    const result = await (await request("/v1/speech-to-text", { method: "POST", body: form })).json();
    $("stt-result").textContent = result.text;
  } catch (error) {
    showError("stt-error", error);
  } finally {
    $("stt-go").disabled = false;
  }
}

async function changeVoice() {
  showError("sts-error", null);
  const file = $("sts-file").files[0];
  if (!file) return;
  const form = new FormData();
  form.append("audio", file, file.name || "audio");
  const voice = encodeURIComponent($("tts-voice").value);
  $("sts-go").disabled = true;
  try {
    const response = await request(`/v1/speech-to-speech/${voice}?output_format=mp3_44100_128`, { method: "POST", body: form });
    const audio = $("sts-audio");
    audio.src = holdUrl("sts", await response.blob());
    await audio.play();
  } catch (error) {
    showError("sts-error", error);
  } finally {
    $("sts-go").disabled = false;
  }
}

async function startMic() {
  showError("mic-error", null);
  $("mic-partial").textContent = "";
  $("mic-committed").textContent = "";
  $("mic-start").disabled = true;
  mic = new MicSession({
    onPartial: (text) => {
      $("mic-partial").textContent = text;
    },
    onCommitted: (text) => {
      $("mic-partial").textContent = "";
      const shown = $("mic-committed");
      shown.textContent = shown.textContent ? `${shown.textContent} ${text}` : text;
    },
    onError: (error) => showError("mic-error", error),
    onClosed: () => {
      $("mic-start").disabled = false;
      $("mic-stop").disabled = true;
    },
  });
  try {
    await mic.start();
    $("mic-stop").disabled = false;
  } catch (error) {
    mic.release();
    mic = null;
    $("mic-start").disabled = false;
    showError("mic-error", error);
  }
}

async function stopMic() {
  $("mic-stop").disabled = true;
  if (mic) await mic.stop();
  mic = null;
}

async function send() {
  showError("chat-error", null);
  const input = $("chat-input");
  const text = input.value.trim();
  if (!text || !apiKey()) return;
  input.value = "";
  chat.push({ role: "user", content: text });
  const log = $("chat-log");
  log.append(el("li", { class: "user" }, text));
  const answer = el("li", { class: "assistant" });
  log.append(answer);
  $("chat-go").disabled = true;
  try {
    const response = await request("/v1/chat/completions", {
      method: "POST",
      bearer: true,
      json: { model: $("chat-model").value, messages: chat, stream: true, max_tokens: 200 },
    });
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let pending = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      pending += value;
      const lines = pending.split("\n");
      pending = lines.pop();
      for (const line of lines) {
        if (!line.startsWith("data: ") || line === "data: [DONE]") continue;
        const event = JSON.parse(line.slice(6));
        if (event.error) throw new Error(event.error.message || "The model failed.");
        const delta = event.choices && event.choices[0] && event.choices[0].delta;
        if (delta && delta.content) answer.textContent += delta.content;
      }
    }
    chat.push({ role: "assistant", content: answer.textContent });
  } catch (error) {
    answer.remove();
    chat.pop();
    showError("chat-error", error);
  } finally {
    $("chat-go").disabled = false;
  }
}
