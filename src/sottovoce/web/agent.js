// Talking to an agent (ElevenLabs' conversation socket): the microphone goes up as 16 kHz PCM,
// the agent's speech comes back as PCM and is played in order. The socket is opened with a
// signed URL (single use, short-lived), so the key never appears in a URL.
import { getJson } from "./api.js";
import { $, clear, el, showError } from "./dom.js";
import { Capture, base64Of } from "./mic.js";

let call = null;

class Player {
  constructor() {
    this.context = new AudioContext();
    this.next = 0;
    this.sources = new Set();
  }

  play(base64, rate) {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const pcm = new Int16Array(bytes.buffer, 0, bytes.length >> 1);
    if (!pcm.length) return;
    const buffer = this.context.createBuffer(1, pcm.length, rate);
    const samples = buffer.getChannelData(0);
    for (let i = 0; i < pcm.length; i++) samples[i] = pcm[i] / 0x8000;
    const source = this.context.createBufferSource();
    source.buffer = buffer;
    source.connect(this.context.destination);
    const at = Math.max(this.context.currentTime, this.next);
    source.start(at);
    this.next = at + buffer.duration;
    this.sources.add(source);
    source.onended = () => this.sources.delete(source);
  }

  // The caller spoke over the agent: what is still queued is dropped.
  interrupt() {
    for (const source of this.sources) source.stop();
    this.sources.clear();
    this.next = 0;
  }

  close() {
    this.interrupt();
    if (this.context.state !== "closed") this.context.close();
  }
}

function say(who, text) {
  $("agent-log").append(el("li", { class: who === "user" ? "user" : "assistant" }, text));
}

export function init() {
  $("agent-form").onsubmit = async (event) => {
    event.preventDefault();
    showError("agent-error", null);
    try {
      const made = await getJson("/v1/convai/agents/create", {
        method: "POST",
        json: {
          name: $("agent-name").value,
          conversation_config: {
            agent: { first_message: $("agent-first").value, prompt: { prompt: $("agent-prompt").value } },
            tts: { voice_id: $("tts-voice").value || undefined },
          },
        },
      });
      await load(made.agent_id);
      $("agent-new").open = false;
    } catch (error) {
      showError("agent-error", error);
    }
  };
  $("agent-talk").onclick = talk;
  $("agent-hang-up").onclick = () => hangUp();
}

export async function load(chosen) {
  const { agents } = await getJson("/v1/convai/agents?page_size=100");
  const select = $("agent-select");
  clear(select);
  for (const agent of agents) select.append(el("option", { value: agent.agent_id }, agent.name || agent.agent_id));
  if (chosen) select.value = chosen;
  $("agent-talk").disabled = agents.length === 0;
}

async function talk() {
  showError("agent-error", null);
  const agentId = $("agent-select").value;
  if (!agentId || call) return;
  clear($("agent-log"));
  $("agent-talk").disabled = true;
  const state = { rate: 16000, player: new Player(), capture: null, socket: null };
  call = state;
  try {
    const { signed_url: url } = await getJson(`/v1/convai/conversation/get-signed-url?agent_id=${encodeURIComponent(agentId)}`);
    state.capture = new Capture((samples) => send({ user_audio_chunk: base64Of(samples) }));
    await state.capture.start();
    state.socket = new WebSocket(url);
    await new Promise((resolve, reject) => {
      state.socket.addEventListener("open", resolve, { once: true });
      state.socket.addEventListener("error", () => reject(new Error("The call could not start.")), { once: true });
    });
    state.socket.addEventListener("message", (event) => receive(state, JSON.parse(event.data)));
    state.socket.addEventListener("close", (event) => {
      if (event.code !== 1000 && event.reason) showError("agent-error", new Error(`The call ended: ${event.reason}`));
      hangUp(state);
    });
    send({ type: "conversation_initiation_client_data" });
    state.capture.run();
    $("agent-hang-up").disabled = false;
  } catch (error) {
    hangUp(state);
    showError("agent-error", error);
  }
}

function send(message) {
  if (call && call.socket && call.socket.readyState === WebSocket.OPEN) call.socket.send(JSON.stringify(message));
}

function receive(state, message) {
  switch (message.type) {
    case "conversation_initiation_metadata": {
      const format = message.conversation_initiation_metadata_event.agent_output_audio_format || "";
      const rate = Number((format.match(/^pcm_(\d+)$/) || [])[1]);
      if (rate) state.rate = rate;
      else showError("agent-error", new Error(`This agent speaks ${format}, which the console cannot play.`));
      break;
    }
    case "audio":
      state.player.play(message.audio_event.audio_base_64, state.rate);
      break;
    case "interruption":
      state.player.interrupt();
      break;
    case "user_transcript":
      say("user", message.user_transcription_event.user_transcript);
      break;
    case "agent_response":
      say("agent", message.agent_response_event.agent_response);
      break;
    case "ping":
      send({ type: "pong", event_id: message.ping_event.event_id });
      break;
    default:
      break;
  }
}

export function hangUp(state = call) {
  if (!state) return;
  if (state.capture) state.capture.release();
  if (state.socket && state.socket.readyState === WebSocket.OPEN) state.socket.close(1000);
  state.player.close();
  if (call === state) call = null;
  $("agent-talk").disabled = false;
  $("agent-hang-up").disabled = true;
}
