"""Cartesia text-to-speech: ``POST /tts/bytes`` and ``POST /tts/sse``.

Cartesia's ``save`` keeps the generated audio: it is a retention path, refused under zero data
retention, and an explicit opt-in to history otherwise.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from sottovoce.api import tts_service
from sottovoce.api.deps import RequestContext, context, retention_flags
from sottovoce.audio.formats import cartesia_format
from sottovoce.engines.base import Mode
from sottovoce.errors import InvalidRequest, SaveRefusedUnderZdr
from sottovoce.privacy.eligibility import Product
from sottovoce.privacy.policy import RequestFlags
from sottovoce.privacy.sensitive import Sensitive

router = APIRouter(prefix="/tts", tags=["cartesia"])
TtsContext = Annotated[RequestContext, Depends(context(Product.TTS))]
Flags = Annotated[RequestFlags, Depends(retention_flags)]
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
    output_format: dict[str, Any]
    language: str | None = Field(default=None, max_length=16)
    speed: Literal["slow", "normal", "fast"] | float | None = None
    generation_config: GenerationConfig | None = None
    save: bool | None = None
    context_id: str | None = Field(default=None, max_length=200)
    add_timestamps: bool | None = None


def _speed(body: CartesiaBody) -> float:
    if body.generation_config and body.generation_config.speed is not None:
        return body.generation_config.speed
    if isinstance(body.speed, str):
        return _NAMED_SPEEDS[body.speed]
    if isinstance(body.speed, float | int):
        # Older API: a float in [-1, 1], 0 being normal speed.
        if not -1.0 <= body.speed <= 1.0:
            raise InvalidRequest("speed must be between -1 and 1.", fields=("speed",))
        return float(2.0 ** float(body.speed))
    return 1.0


def _job(
    ctx: RequestContext, body: CartesiaBody, flags: RequestFlags, mode: Mode, raw_only: bool
) -> tts_service.TtsJob:
    fmt = cartesia_format(body.output_format, raw_only=raw_only)
    if body.save:
        if ctx.workspace.retention.zdr_enabled or flags.enable_logging is False:
            raise SaveRefusedUnderZdr()
        flags = RequestFlags(enable_logging=flags.enable_logging, store=True)
    voice = body.voice if isinstance(body.voice, str) else body.voice.id
    return tts_service.prepare(
        ctx,
        text=body.transcript,
        voice_id=voice,
        model_id=body.model_id,
        speed=_speed(body),
        fmt=fmt,
        flags=flags,
        mode=mode,
    )


@router.post("/bytes")
async def tts_bytes(body: CartesiaBody, ctx: TtsContext, flags: Flags) -> Response:
    job = _job(ctx, body, flags, Mode.SYNC, raw_only=False)
    audio, _ = await tts_service.collect(job)
    return Response(content=audio, media_type=job.format.media_type)


def _event(kind: str, payload: dict[str, Any]) -> bytes:
    return f"event: {kind}\ndata: {json.dumps(payload)}\n\n".encode()


@router.post("/sse")
async def tts_sse(body: CartesiaBody, ctx: TtsContext, flags: Flags) -> StreamingResponse:
    job = _job(ctx, body, flags, Mode.STREAMING, raw_only=True)
    context_id = body.context_id

    async def events() -> AsyncIterator[bytes]:
        last = time.perf_counter()
        async for piece in tts_service.run(job):
            now = time.perf_counter()
            if piece.audio:
                yield _event(
                    "chunk",
                    {
                        "type": "chunk",
                        "data": base64.b64encode(piece.audio).decode(),
                        "done": False,
                        "status_code": 206,
                        "step_time": round((now - last) * 1000, 3),
                        "context_id": context_id,
                    },
                )
            last = now
            if body.add_timestamps and piece.alignment:
                yield _event("timestamps", _word_timestamps(piece.alignment, context_id))
        yield _event(
            "done", {"type": "done", "done": True, "status_code": 200, "context_id": context_id}
        )

    return StreamingResponse(await tts_service.primed(events()), media_type="text/event-stream")


def _word_timestamps(
    chars: tuple[tuple[str, float, float], ...], context_id: str | None
) -> dict[str, Any]:
    words: list[str] = []
    starts: list[float] = []
    ends: list[float] = []
    current = ""
    for ch, start, end in chars:
        if ch.isspace():
            if current:
                words.append(current)
                current = ""
            continue
        if not current:
            starts.append(start)
            ends.append(end)
        current += ch
        ends[-1] = end
    if current:
        words.append(current)
    return {
        "type": "timestamps",
        "done": False,
        "status_code": 206,
        "context_id": context_id,
        "word_timestamps": {"words": words, "start": starts, "end": ends},
    }
