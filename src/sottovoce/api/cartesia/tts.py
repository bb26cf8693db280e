"""Cartesia text-to-speech: ``POST /tts/bytes`` and ``POST /tts/sse``.

Cartesia's ``save`` keeps the generated audio: it is a retention path, refused under zero data
retention, and an explicit opt-in to history otherwise.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from sottovoce.api.cartesia.aliases import ALIASES
from sottovoce.api.cartesia.errors import error_fields
from sottovoce.api.cartesia.formats import (
    OUTPUT_FORMAT_SCHEMA,
    RAW_OUTPUT_FORMAT_SCHEMA,
    output_format,
)
from sottovoce.api.deps import Flags, context
from sottovoce.api.streaming import stream_events
from sottovoce.privacy.eligibility import Product
from sottovoce.privacy.policy import RequestFlags
from sottovoce.privacy.providers import Mode
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.services.context import RequestContext
from sottovoce.services.events import Audio, CharTimes, Done, Event, Failed, word_times
from sottovoce.services.tts import Speech, SpeechAsk, collect

router = APIRouter(prefix="/tts", tags=["Cartesia: text to speech"])
TtsContext = Annotated[RequestContext, Depends(context(Product.TTS))]
_NAMED_SPEEDS = {"slow": 0.8, "normal": 1.0, "fast": 1.25}


class VoiceRef(BaseModel):
    model_config = ConfigDict(extra="ignore")
    mode: Literal["id"] = "id"
    id: str = Field(max_length=100)


class GenerationConfig(BaseModel):
    model_config = ConfigDict(extra="ignore")
    speed: float | None = Field(default=None, ge=0.6, le=1.5)
    volume: float | None = Field(default=None, ge=0.5, le=2.0)


class CartesiaBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    model_id: str = Field(max_length=100)
    transcript: Sensitive[str]
    voice: VoiceRef | str
    # Checked by :func:`output_format` (sockets send the same object); described for the document.
    output_format: Annotated[dict[str, Any], WithJsonSchema(OUTPUT_FORMAT_SCHEMA)]
    language: str | None = Field(default=None, max_length=16)
    # Older API: a float from -1 to 1, 0 being normal speed.
    speed: Literal["slow", "normal", "fast"] | Annotated[float, Field(ge=-1.0, le=1.0)] | None = (
        None
    )
    generation_config: GenerationConfig | None = None
    save: bool | None = None
    context_id: str | None = Field(default=None, max_length=200)
    add_timestamps: bool | None = None


class CartesiaSseBody(CartesiaBody):
    """``POST /tts/sse`` streams raw samples only."""

    output_format: Annotated[dict[str, Any], WithJsonSchema(RAW_OUTPUT_FORMAT_SCHEMA)]


def _speed(body: CartesiaBody) -> float:
    if body.generation_config and body.generation_config.speed is not None:
        return body.generation_config.speed
    if isinstance(body.speed, str):
        return _NAMED_SPEEDS[body.speed]
    if isinstance(body.speed, float | int):
        return float(2.0 ** float(body.speed))
    return 1.0


def speech_ask(body: CartesiaBody, flags: RequestFlags, mode: Mode, raw_only: bool) -> SpeechAsk:
    """One utterance as Cartesia asks for it (also a socket context's first request)."""
    fmt = output_format(body.output_format, raw_only=raw_only)
    voice = body.voice if isinstance(body.voice, str) else body.voice.id
    return SpeechAsk(
        output=fmt,
        voice_id=ALIASES.voice(voice),
        model_id=ALIASES.tts_model(body.model_id),
        speed=_speed(body),
        flags=RequestFlags(enable_logging=flags.enable_logging, save=bool(body.save)),
        mode=mode,
    )


def _speech(
    ctx: RequestContext, body: CartesiaBody, flags: RequestFlags, mode: Mode, raw_only: bool
) -> Speech:
    return Speech(ctx, speech_ask(body, flags, mode, raw_only))


@router.post("/bytes")
async def tts_bytes(body: CartesiaBody, ctx: TtsContext, flags: Flags) -> Response:
    tts = _speech(ctx, body, flags, Mode.SYNC, raw_only=False)
    audio, _ = await collect(tts.speak(body.transcript), tts.output)
    return Response(content=audio, media_type=tts.output.media_type)


def _event(kind: str, payload: dict[str, Any]) -> bytes:
    return f"event: {kind}\ndata: {json.dumps(payload)}\n\n".encode()


@router.post("/sse")
async def tts_sse(body: CartesiaSseBody, ctx: TtsContext, flags: Flags) -> StreamingResponse:
    tts = _speech(ctx, body, flags, Mode.STREAMING, raw_only=True)
    context_id = body.context_id
    last = time.perf_counter()

    def write(event: Event) -> bytes | None:
        nonlocal last
        if isinstance(event, Done):
            done = {"type": "done", "done": True, "status_code": 200, "context_id": context_id}
            return _event("done", done)
        if isinstance(event, Failed):
            error = {
                "type": "error",
                "done": True,
                "status_code": event.error.status,
                "context_id": context_id,
                **error_fields(event.error, ctx.request_id),
            }
            return _event("error", error)
        if not isinstance(event, Audio):
            return None
        now = time.perf_counter()
        out = b""
        if event.data:
            chunk = {
                "type": "chunk",
                "data": base64.b64encode(event.data.reveal()).decode(),
                "done": False,
                "status_code": 206,
                "step_time": round((now - last) * 1000, 3),
                "context_id": context_id,
            }
            out += _event("chunk", chunk)
        last = now
        if body.add_timestamps and event.alignment is not None:
            out += _event("timestamps", word_timestamps(event.alignment.reveal(), context_id))
        return out or None

    return await stream_events(tts.speak(body.transcript), write, "text/event-stream")


def word_timestamps(chars: CharTimes, context_id: str | None) -> dict[str, Any]:
    """Characters and their times, grouped into Cartesia's word timestamps."""
    timed = word_times(chars)
    return {
        "type": "timestamps",
        "done": False,
        "status_code": 206,
        "context_id": context_id,
        "word_timestamps": {"words": timed.words, "start": timed.starts, "end": timed.ends},
    }
