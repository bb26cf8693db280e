"""ElevenLabs realtime speech-to-text: ``WS /v1/speech-to-text/realtime``.

The client streams ``input_audio_chunk`` messages (base64 PCM at the ``audio_format`` rate);
the server answers ``partial_transcript`` while the speaker talks and ``committed_transcript``
when an utterance ends (``commit_strategy=vad``) or on ``commit: true``. The key comes from the
``xi-api-key`` header, the ``xi_api_key``/``token`` query parameter, or the first message.

This module only translates: the session itself (retention, metering, history) is
:class:`~sottovoce.services.stt_live.LiveSession`. Nothing of the audio or the transcripts is
logged or echoed in an error.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from sottovoce.api import params
from sottovoce.api.deps import authenticate_websocket, meter_of
from sottovoce.api.elevenlabs.aliases import ALIASES
from sottovoce.api.sockets import close_code
from sottovoce.audio.pcm import PcmEncoding
from sottovoce.engines.base import StreamOptions
from sottovoce.errors import (
    ChunkTooLarge,
    EngineFailed,
    EngineUnavailable,
    InvalidRequest,
    SessionTimeLimit,
    SottovoceError,
    TooBusy,
    Unauthorized,
    UpstreamFailed,
    UpstreamTimeout,
)
from sottovoce.privacy.eligibility import Product
from sottovoce.privacy.policy import RequestFlags
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.services.events import Committed, Event, Failed, Partial
from sottovoce.services.stt_live import LiveAsk, LiveSession

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

# Each error class's message type, most specific first.
_MESSAGE_TYPES: tuple[tuple[type[SottovoceError], str], ...] = (
    (Unauthorized, "auth_error"),
    (ChunkTooLarge, "chunk_size_exceeded"),
    (SessionTimeLimit, "session_time_limit_exceeded"),
    (TooBusy, "resource_exhausted"),
    (InvalidRequest, "input_error"),
    (EngineFailed, "transcriber_error"),
    (EngineUnavailable, "transcriber_error"),
    (UpstreamFailed, "transcriber_error"),
    (UpstreamTimeout, "transcriber_error"),
)


def error_message(exc: SottovoceError) -> dict[str, Any]:
    kind = next((name for cls, name in _MESSAGE_TYPES if isinstance(exc, cls)), "error")
    return {"message_type": kind, "error": exc.message, "code": exc.code}


def _number(query: Mapping[str, str], name: str, low: float, high: float, default: float) -> float:
    value = params.number(query.get(name), name, low, high)
    return default if value is None else value


def session_ask(query: Mapping[str, str]) -> tuple[LiveAsk, dict[str, Any]]:
    """The session's settings from the socket's query, and the ``config`` it echoes back."""
    audio_format = query.get("audio_format") or "pcm_16000"
    if audio_format not in AUDIO_FORMATS:
        raise InvalidRequest("'audio_format' is not supported.", fields=["audio_format"])
    strategy = query.get("commit_strategy") or "manual"
    if strategy not in ("manual", "vad"):
        raise InvalidRequest("'commit_strategy' must be manual or vad.", fields=["commit_strategy"])
    timestamps = bool(params.flag(query.get("include_timestamps"), "include_timestamps"))
    options = StreamOptions(
        word_timestamps=timestamps,
        language=query.get("language_code") or None,
        commit_on_silence=strategy == "vad",
        silence_seconds=_number(query, "vad_silence_threshold_secs", 0.3, 3.0, 1.5),
        vad_threshold=_number(query, "vad_threshold", 0.1, 0.9, 0.4),
        min_speech_seconds=_number(query, "min_speech_duration_ms", 50, 2000, 100) / 1000,
    )
    _number(query, "min_silence_duration_ms", 50, 2000, 100)
    enable_logging = params.flag(query.get("enable_logging"), "enable_logging")
    model_id = query.get("model_id") or "scribe_v2_realtime"
    rate, encoding = AUDIO_FORMATS[audio_format]
    ask = LiveAsk(
        model=ALIASES.stt_model(model_id),
        sample_rate=rate,
        encoding=encoding,
        options=options,
        flags=RequestFlags(enable_logging=enable_logging),
        settings={"mode": "realtime", "commit_strategy": strategy},
    )
    config = {
        "sample_rate": rate,
        "audio_format": audio_format,
        "language_code": options.language,
        "commit_strategy": strategy,
        "vad_silence_threshold_secs": options.silence_seconds,
        "vad_threshold": options.vad_threshold,
        "min_speech_duration_ms": round(options.min_speech_seconds * 1000),
        "model_id": model_id,
        "enable_logging": enable_logging,
        "include_timestamps": timestamps,
    }
    return ask, config


def _messages(event: Event, timestamps: bool) -> list[dict[str, Any]]:
    if isinstance(event, Partial):
        return [{"message_type": "partial_transcript", "text": event.transcript.reveal().text}]
    if isinstance(event, Committed):
        transcript = event.transcript.reveal()
        out: list[dict[str, Any]] = [
            {"message_type": "committed_transcript", "text": transcript.text}
        ]
        if timestamps:
            words = [
                {"text": w.text.strip(), "start": w.start, "end": w.end, "type": "word"}
                for w in transcript.words
            ]
            out.append(
                {
                    "message_type": "committed_transcript_with_timestamps",
                    "text": transcript.text,
                    "language_code": transcript.language,
                    "words": words,
                }
            )
        return out
    if isinstance(event, Failed):
        return [error_message(event.error)]
    return []


def _audio_of(raw: str) -> tuple[Sensitive[bytes], bool]:
    """The audio and the commit flag of one client message (raises ``InvalidRequest``)."""
    try:
        message = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidRequest("The message is not valid JSON.") from exc
    if not isinstance(message, dict):
        raise InvalidRequest("The message must be a JSON object.")
    if message.get("message_type", "input_audio_chunk") != "input_audio_chunk":
        raise InvalidRequest("Unknown message_type.", fields=["message_type"])
    encoded = message.get("audio_base_64") or ""
    if not isinstance(encoded, str):
        raise InvalidRequest("'audio_base_64' must be a string.", fields=["audio_base_64"])
    if len(encoded) > MAX_CHUNK_BYTES * 4 // 3 + 4:
        raise ChunkTooLarge("An audio chunk is larger than this server accepts.")
    try:
        audio = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidRequest("'audio_base_64' is not valid base64.") from exc
    return Sensitive(audio), message.get("commit") is True


class _Socket:
    """Glue between the socket and the session: one client message at a time."""

    def __init__(self, websocket: WebSocket, session: LiveSession, timestamps: bool) -> None:
        self.websocket = websocket
        self.session = session
        self.timestamps = timestamps

    async def send(self, events: list[Event]) -> None:
        for event in events:
            for message in _messages(event, self.timestamps):
                await self.websocket.send_json(message)

    async def handle(self, raw: str) -> bool:
        """One client message; False when the session has ended."""
        try:
            audio, commit = _audio_of(raw)
        except ChunkTooLarge as exc:
            await self.websocket.send_json(error_message(exc))
            await self.websocket.close(code=1009)
            return False
        except InvalidRequest as exc:
            # A malformed message is reported; the session goes on.
            self.session.ctx.usage.error_code = exc.code
            await self.websocket.send_json(error_message(exc))
            return True
        await self.send(await self.session.feed(audio))
        if self.session.ended:
            await self.websocket.close(code=1008)
            return False
        if commit:
            await self.send(await self.session.commit())
        return True


@router.websocket("/v1/speech-to-text/realtime")
async def realtime(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        ctx, first_message = await authenticate_websocket(websocket, Product.STT)
        ask, config = session_ask(websocket.query_params)
        session = LiveSession(ctx, ask)
    except SottovoceError as exc:
        meter_of(websocket).error_code = exc.code
        # The client may already be gone (it hung up before sending its key).
        with contextlib.suppress(RuntimeError, OSError, WebSocketDisconnect):
            await websocket.send_json(error_message(exc))
            await websocket.close(code=close_code(exc))
        return
    socket = _Socket(websocket, session, config["include_timestamps"])
    started = session.started()
    await websocket.send_json(
        {"message_type": "session_started", "session_id": started.session_id, "config": config}
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
            if not await socket.handle(raw):
                break
    except WebSocketDisconnect:
        pass
    except (RuntimeError, OSError):
        # The client vanished while we were answering: nothing more can be sent.
        ctx.usage.cancelled = True
    except SottovoceError as exc:
        # Raised by a read: the session's key or workspace changed, or the server drains.
        ctx.usage.error_code = exc.code
        with contextlib.suppress(RuntimeError, OSError, WebSocketDisconnect):
            await websocket.send_json(error_message(exc))
            await websocket.close(code=close_code(exc))
    finally:
        await session.finish()
