// The microphone to the realtime transcription socket (ElevenLabs' shape): 16 kHz 16-bit PCM,
// base64 in JSON messages; partial transcripts while speaking, committed ones after a pause.
import { apiKey, socketUrl } from "./api.js";

const RATE = 16000;
const CHUNK = RATE / 10; // 100 ms per message

export function base64Of(samples) {
  const pcm = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const s = Math.max(-1, Math.min(1, samples[i]));
    pcm[i] = s < 0 ? s * 0x8000 : s * 0x7fff;
  }
  const bytes = new Uint8Array(pcm.buffer);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

// The microphone as 16 kHz mono float blocks of about 100 ms, through an AudioWorklet.
export class Capture {
  constructor(onChunk) {
    this.onChunk = onChunk;
    this.pending = [];
    this.pendingLength = 0;
  }

  async start() {
    this.stream = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true },
    });
    this.context = new AudioContext({ sampleRate: RATE });
    await this.context.audioWorklet.addModule("/console/pcm-worklet.js");
  }

  // Start delivering chunks (after the socket they go to is open).
  run() {
    const source = this.context.createMediaStreamSource(this.stream);
    this.tap = new AudioWorkletNode(this.context, "pcm-tap");
    this.tap.port.onmessage = (event) => this.collect(event.data);
    source.connect(this.tap);
  }

  collect(samples) {
    this.pending.push(samples);
    this.pendingLength += samples.length;
    if (this.pendingLength < CHUNK) return;
    const all = new Float32Array(this.pendingLength);
    let at = 0;
    for (const block of this.pending) {
      all.set(block, at);
      at += block.length;
    }
    this.pending = [];
    this.pendingLength = 0;
    this.onChunk(all);
  }

  release() {
    if (this.tap) this.tap.port.onmessage = null;
    if (this.stream) for (const track of this.stream.getTracks()) track.stop();
    if (this.context && this.context.state !== "closed") this.context.close();
    this.stream = null;
    this.pending = [];
    this.pendingLength = 0;
  }
}

export class MicSession {
  constructor({ onPartial, onCommitted, onError, onClosed }) {
    this.handlers = { onPartial, onCommitted, onError, onClosed };
    this.capture = new Capture((samples) =>
      this.send({ message_type: "input_audio_chunk", audio_base_64: base64Of(samples), sample_rate: RATE }),
    );
  }

  async start() {
    await this.capture.start();
    const query = new URLSearchParams({
      audio_format: "pcm_16000",
      commit_strategy: "vad",
      vad_silence_threshold_secs: "0.6",
    });
    this.socket = new WebSocket(socketUrl(`/v1/speech-to-text/realtime?${query}`));
    await new Promise((resolve, reject) => {
      this.socket.addEventListener("open", resolve, { once: true });
      this.socket.addEventListener("error", () => reject(new Error("The socket could not open.")), { once: true });
    });
    // The key travels in the first message, never in a URL.
    this.send({ message_type: "input_audio_chunk", audio_base_64: "", xi_api_key: apiKey() });
    this.socket.addEventListener("message", (event) => this.receive(JSON.parse(event.data)));
    this.socket.addEventListener("close", (event) => {
      this.release();
      // Closed by the server while listening: say so (an error message, if any, came first).
      if (!this.stopping && !this.failed) {
        const why = event.reason ? `: ${event.reason}` : ` (code ${event.code})`;
        this.handlers.onError(new Error(`The transcription stopped${why}.`));
      }
      if (this.handlers.onClosed) this.handlers.onClosed();
    });
    this.capture.run();
  }

  send(message) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  receive(message) {
    const type = message.message_type;
    if (type === "partial_transcript") this.handlers.onPartial(message.text);
    else if (type === "committed_transcript") this.handlers.onCommitted(message.text);
    else if (message.error) {
      this.failed = true;
      this.handlers.onError(new Error(message.error));
    }
  }

  // Stop listening: what was said last is committed, then the socket closes.
  async stop() {
    this.stopping = true;
    this.release();
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return;
    this.send({ message_type: "input_audio_chunk", audio_base_64: "", commit: true });
    const socket = this.socket;
    await new Promise((resolve) => {
      const done = setTimeout(resolve, 8000);
      socket.addEventListener("message", (event) => {
        if (JSON.parse(event.data).message_type === "committed_transcript") {
          clearTimeout(done);
          resolve();
        }
      });
    });
    socket.close(1000);
  }

  // Drop the session at once (sign-out): nothing more is sent or committed.
  close() {
    this.stopping = true;
    this.release();
    if (this.socket && this.socket.readyState <= WebSocket.OPEN) this.socket.close(1000);
  }

  release() {
    this.capture.release();
  }
}
