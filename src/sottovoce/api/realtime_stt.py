"""ElevenLabs realtime speech-to-text: ``WS /v1/speech-to-text/realtime``.

The client streams ``input_audio_chunk`` messages (base64 PCM at the ``audio_format`` rate);
the server answers ``partial_transcript`` while the speaker talks and ``committed_transcript``
when an utterance ends (``commit_strategy=vad``) or on ``commit: true``. The key comes from the
``xi-api-key`` header or the ``xi_api_key``/``token`` query parameter, as the SDK sends it.

Nothing of the audio or the transcripts is logged or echoed in an error. Without ZDR the
committed transcripts of the session go to history (source ``STT``) when it ends; under ZDR
only the usage record (audio seconds, model) remains.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import dataclasses
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from sottovoce.api.deps import RequestContext, authenticate_websocket, meter_of
from sottovoce.api.transcription import resolve_transcriber
from sottovoce.audio.encode import wav_header
from sottovoce.audio.pcm import TARGET_RATE, PcmEncoding, PcmStream
from sottovoce.engines.base import (
    Mode,
    StreamEvent,
    StreamEventKind,
    StreamOptions,
    TranscriptionStream,
)
from sottovoce.errors import InvalidRequest, SottovoceError
from sottovoce.privacy.eligibility import HistorySource, Product
from sottovoce.privacy.policy import RequestFlags, RetentionDecision, Route
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.store.history import NewHistoryItem

router = APIRouter(tags=["ElevenLabs: realtime speech to text"])

AUDIO_FORMATS = {
    "pcm_8000": (8000, PcmEncoding.S16LE),
    "pcm_16000": (16000, PcmEncoding.S16LE),
    "pcm_22050": (22050, PcmEncoding.S16LE),
    "pcm_24000": (24000, PcmEncoding.S16LE),
    "pcm_44100": (44100, PcmEncoding.S16LE),
    "pcm_48000": (48000, PcmEncoding.S16LE),
    "ulaw_8000": (8000, PcmEncoding.MULAW),
}
MAX_CHUNK_BYTES = 2 * 1024 * 1024
"""Largest decoded audio in one message (about 65 s of 16 kHz PCM)."""


class SessionClosed(Exception):
    """The server ends the session after telling the client why."""


class SessionLimit(SottovoceError):
    status = 413
    code = "chunk_size_exceeded"
    default_message = "An audio chunk is larger than this server accepts."


@dataclass(frozen=True)
class SessionConfig:
    model_id: str
    audio_format: str
    commit_strategy: str
    options: StreamOptions
    include_timestamps: bool
    enable_logging: bool | None

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> SessionConfig:
        def number(name: str, low: float, high: float, default: float) -> float:
            raw = query.get(name)
            if raw is None or raw == "":
                return default
            try:
                value = float(raw)
            except ValueError:
                value = float("nan")
            if not low <= value <= high:
                raise InvalidRequest(f"'{name}' must be from {low:g} to {high:g}.", fields=[name])
            return value

        def flag(name: str) -> bool | None:
            raw = query.get(name)
            if raw is None or raw == "":
                return None
            if raw.lower() not in ("true", "false"):
                raise InvalidRequest(f"'{name}' must be true or false.", fields=[name])
            return raw.lower() == "true"

        audio_format = query.get("audio_format") or "pcm_16000"
        if audio_format not in AUDIO_FORMATS:
            raise InvalidRequest("'audio_format' is not supported.", fields=["audio_format"])
        strategy = query.get("commit_strategy") or "manual"
        if strategy not in ("manual", "vad"):
            raise InvalidRequest(
                "'commit_strategy' must be manual or vad.", fields=["commit_strategy"]
            )
        include_timestamps = bool(flag("include_timestamps"))
        options = StreamOptions(
            word_timestamps=include_timestamps,
            language=query.get("language_code") or None,
            commit_on_silence=strategy == "vad",
            silence_seconds=number("vad_silence_threshold_secs", 0.3, 3.0, 1.5),
            vad_threshold=number("vad_threshold", 0.1, 0.9, 0.4),
            min_speech_seconds=number("min_speech_duration_ms", 50, 2000, 100) / 1000,
        )
        number("min_silence_duration_ms", 50, 2000, 100)
        return cls(
            model_id=query.get("model_id") or "scribe_v2_realtime",
            audio_format=audio_format,
            commit_strategy=strategy,
            options=options,
            include_timestamps=include_timestamps,
            enable_logging=flag("enable_logging"),
        )

    def describe(self) -> dict[str, Any]:
        rate, _ = AUDIO_FORMATS[self.audio_format]
        return {
            "sample_rate": rate,
            "audio_format": self.audio_format,
            "language_code": self.options.language,
            "commit_strategy": self.commit_strategy,
            "vad_silence_threshold_secs": self.options.silence_seconds,
            "vad_threshold": self.options.vad_threshold,
            "min_speech_duration_ms": round(self.options.min_speech_seconds * 1000),
            "model_id": self.model_id,
            "enable_logging": self.enable_logging,
            "include_timestamps": self.include_timestamps,
        }


def error_message(exc: SottovoceError) -> dict[str, Any]:
    if exc.status == 401:
        kind = "auth_error"
    elif exc.status in (413,):
        kind = "chunk_size_exceeded"
    elif exc.status < 500:
        kind = "input_error" if exc.status in (400, 422) else "invalid_request"
    else:
        kind = "transcriber_error"
    return {"message_type": kind, "error": exc.message, "code": exc.code}


class RealtimeSession:
    """One socket's conversation: messages in, transcripts out, history at the end."""

    def __init__(self, websocket: WebSocket, ctx: RequestContext, config: SessionConfig) -> None:
        self.websocket = websocket
        self.ctx = ctx
        self.config = config
        self.transcriber = resolve_transcriber(ctx, config.model_id)
        flags = RequestFlags(enable_logging=config.enable_logging)
        self.decision: RetentionDecision = ctx.decide(
            flags, Route(self.transcriber.info.provider, Mode.STREAMING)
        )
        rate, encoding = AUDIO_FORMATS[config.audio_format]
        self.pcm = PcmStream(rate, encoding)
        interval = ctx.services.settings.stt.realtime_partial_interval
        options = dataclasses.replace(config.options, partial_interval=interval)
        self.stream: TranscriptionStream = self.transcriber.open_stream(options)
        self.committed: list[str] = []
        self.max_seconds = ctx.services.settings.stt.realtime_max_session_seconds
        # The session's audio (16 kHz, 16-bit) is gathered only when history will keep it.
        self.recording: bytearray | None = (
            bytearray() if self.decision.retain and ctx.workspace.keep_input_audio else None
        )

    async def send_events(self, events: list[StreamEvent]) -> None:
        for event in events:
            transcript = event.transcript.reveal()
            if event.kind is StreamEventKind.PARTIAL:
                await self.websocket.send_json(
                    {"message_type": "partial_transcript", "text": transcript.text}
                )
                continue
            if transcript.text:
                self.committed.append(transcript.text)
            await self.websocket.send_json(
                {"message_type": "committed_transcript", "text": transcript.text}
            )
            if self.config.include_timestamps:
                words = [
                    {"text": w.text.strip(), "start": w.start, "end": w.end, "type": "word"}
                    for w in transcript.words
                ]
                await self.websocket.send_json(
                    {
                        "message_type": "committed_transcript_with_timestamps",
                        "text": transcript.text,
                        "language_code": transcript.language,
                        "words": words,
                    }
                )

    async def handle(self, raw: str) -> None:
        try:
            message = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise InvalidRequest("The message is not valid JSON.") from exc
        if not isinstance(message, dict):
            raise InvalidRequest("The message must be a JSON object.")
        kind = message.get("message_type", "input_audio_chunk")
        if kind != "input_audio_chunk":
            raise InvalidRequest("Unknown message_type.", fields=["message_type"])
        encoded = message.get("audio_base_64") or ""
        if not isinstance(encoded, str):
            raise InvalidRequest("'audio_base_64' must be a string.", fields=["audio_base_64"])
        if len(encoded) > MAX_CHUNK_BYTES * 4 // 3 + 4:
            raise SessionLimit("An audio chunk is larger than this server accepts.")
        try:
            audio = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidRequest("'audio_base_64' is not valid base64.") from exc
        if audio:
            samples = self.pcm.push(audio)
            if self.recording is not None:
                self.recording += (samples.clip(-1, 1) * 32767).astype("<i2").tobytes()
            await self.send_events(
                await self.stream.feed(Sensitive(samples.astype("<f4").tobytes()))
            )
            if self.stream.audio_seconds > self.max_seconds:
                await self.websocket.send_json(
                    {
                        "message_type": "session_time_limit_exceeded",
                        "error": "The session reached its time limit.",
                    }
                )
                raise SessionClosed()
        if message.get("commit") is True:
            await self.send_events([await self.stream.commit()])

    async def finish(self) -> None:
        # Whatever was still pending is dropped: the client is gone or has closed.
        await self.stream.close()
        self.ctx.usage.add_input(round(self.stream.audio_seconds, 3), "audio_seconds")
        text = " ".join(self.committed)
        self.ctx.usage.add_output(len(text), "characters")
        if self.decision.retain and text:
            recording = None
            if self.recording is not None:
                recording = Sensitive(wav_header(TARGET_RATE, len(self.recording)) + self.recording)
            await self.ctx.save_history(
                self.decision,
                NewHistoryItem(
                    workspace_id=self.ctx.workspace.id,
                    request_id=self.ctx.request_id,
                    source=HistorySource.STT,
                    model_id=self.transcriber.info.model_id,
                    text=Sensitive(text),
                    audio=recording,
                    content_type="audio/wav" if recording is not None else None,
                    settings={"mode": "realtime", "commit_strategy": self.config.commit_strategy},
                ),
            )


@router.websocket("/v1/speech-to-text/realtime")
async def realtime(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        ctx, first_message = await authenticate_websocket(websocket, Product.STT)
        config = SessionConfig.from_query(websocket.query_params)
        session = RealtimeSession(websocket, ctx, config)
    except SottovoceError as exc:
        meter_of(websocket).error_code = exc.code
        # The client may already be gone (it hung up before sending its key).
        with contextlib.suppress(RuntimeError, OSError, WebSocketDisconnect):
            await websocket.send_json(error_message(exc))
            await websocket.close(code=1008)
        return
    await websocket.send_json(
        {
            "message_type": "session_started",
            "session_id": uuid.uuid4().hex,
            "config": config.describe(),
        }
    )
    pending = [first_message] if first_message is not None else []
    try:
        while True:
            try:
                raw = pending.pop() if pending else await websocket.receive_text()
            except KeyError:
                # A binary frame: this protocol carries audio as base64 text only.
                await websocket.send_json(
                    error_message(InvalidRequest("Send audio as JSON text messages."))
                )
                continue
            try:
                await session.handle(raw)
            except SessionClosed:
                await websocket.close(code=1008)
                break
            except SessionLimit as exc:
                await websocket.send_json(error_message(exc))
                await websocket.close(code=1009)
                break
            except InvalidRequest as exc:
                # A malformed message is reported; the session goes on.
                session.ctx.usage.error_code = exc.code
                await websocket.send_json(error_message(exc))
    except WebSocketDisconnect:
        pass
    except (RuntimeError, OSError):
        # The client vanished while we were answering: nothing more can be sent.
        session.ctx.usage.cancelled = True
    finally:
        await session.finish()
