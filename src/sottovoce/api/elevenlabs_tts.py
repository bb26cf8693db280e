"""ElevenLabs text-to-speech: ``/v1/text-to-speech/{voice_id}`` and its streaming and
timestamped variants, as the ``elevenlabs`` SDK calls them.

``enable_logging=false`` asks for zero retention on this request. Alignment is per character,
derived from the engine's phoneme durations (see :mod:`sottovoce.engines.piper`); the text is
not normalized, so ``normalized_alignment`` repeats ``alignment``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from sottovoce.api import tts_service
from sottovoce.api.deps import RequestContext, context, retention_flags
from sottovoce.audio.formats import elevenlabs_format
from sottovoce.engines.base import Mode
from sottovoce.privacy.eligibility import Product
from sottovoce.privacy.policy import RequestFlags
from sottovoce.privacy.sensitive import Sensitive

router = APIRouter(prefix="/v1/text-to-speech", tags=["elevenlabs"])
TtsContext = Annotated[RequestContext, Depends(context(Product.TTS))]
Flags = Annotated[RequestFlags, Depends(retention_flags)]
OutputFormatQuery = Annotated[str | None, Query(max_length=40)]
LatencyQuery = Annotated[int | None, Query(ge=0, le=4)]


class VoiceSettings(BaseModel):
    model_config = ConfigDict(extra="ignore")
    stability: float | None = Field(default=None, ge=0, le=1)
    similarity_boost: float | None = Field(default=None, ge=0, le=1)
    style: float | None = Field(default=None, ge=0, le=1)
    use_speaker_boost: bool | None = None
    speed: float | None = Field(default=None, ge=0.25, le=4.0)


class TtsBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    text: Sensitive[str]
    model_id: str | None = Field(default=None, max_length=100)
    language_code: str | None = Field(default=None, max_length=16)
    voice_settings: VoiceSettings | None = None
    seed: int | None = None
    # Context for prosody on other engines; not spoken, never stored.
    previous_text: Sensitive[str] | None = None
    next_text: Sensitive[str] | None = None
    apply_text_normalization: str | None = Field(default=None, max_length=10)


def _job(
    ctx: RequestContext,
    voice_id: str,
    body: TtsBody,
    output_format: str | None,
    flags: RequestFlags,
    mode: Mode,
) -> tts_service.TtsJob:
    fmt = elevenlabs_format(output_format)
    vs = body.voice_settings or VoiceSettings()
    settings: dict[str, Any] = {
        k: v for k, v in vs.model_dump().items() if v is not None and k != "speed"
    }
    return tts_service.prepare(
        ctx,
        text=body.text,
        voice_id=voice_id,
        model_id=body.model_id,
        speed=vs.speed if vs.speed is not None else 1.0,
        fmt=fmt,
        flags=flags,
        mode=mode,
        settings=settings,
    )


def _alignment(chars: tuple[tuple[str, float, float], ...]) -> dict[str, list[Any]]:
    return {
        "characters": [c for c, _, _ in chars],
        "character_start_times_seconds": [s for _, s, _ in chars],
        "character_end_times_seconds": [e for _, _, e in chars],
    }


@router.post("/{voice_id}")
async def convert(
    voice_id: str,
    body: TtsBody,
    ctx: TtsContext,
    flags: Flags,
    output_format: OutputFormatQuery = None,
    optimize_streaming_latency: LatencyQuery = None,
) -> Response:
    job = _job(ctx, voice_id, body, output_format, flags, Mode.SYNC)
    audio, _ = await tts_service.collect(job)
    return Response(content=audio, media_type=job.format.media_type)


@router.post("/{voice_id}/stream")
async def stream(
    voice_id: str,
    body: TtsBody,
    ctx: TtsContext,
    flags: Flags,
    output_format: OutputFormatQuery = None,
    optimize_streaming_latency: LatencyQuery = None,
) -> StreamingResponse:
    job = _job(ctx, voice_id, body, output_format, flags, Mode.STREAMING)

    async def audio() -> AsyncIterator[bytes]:
        async for piece in tts_service.run(job):
            if piece.audio:
                yield piece.audio

    return StreamingResponse(await tts_service.primed(audio()), media_type=job.format.media_type)


@router.post("/{voice_id}/with-timestamps")
async def convert_with_timestamps(
    voice_id: str,
    body: TtsBody,
    ctx: TtsContext,
    flags: Flags,
    output_format: OutputFormatQuery = None,
    optimize_streaming_latency: LatencyQuery = None,
) -> Response:
    job = _job(ctx, voice_id, body, output_format, flags, Mode.SYNC)
    audio, chars = await tts_service.collect(job)
    alignment = _alignment(chars)
    payload = {
        "audio_base64": base64.b64encode(audio).decode(),
        "alignment": alignment,
        "normalized_alignment": alignment,
    }
    return Response(content=json.dumps(payload), media_type="application/json")


@router.post("/{voice_id}/stream/with-timestamps")
async def stream_with_timestamps(
    voice_id: str,
    body: TtsBody,
    ctx: TtsContext,
    flags: Flags,
    output_format: OutputFormatQuery = None,
    optimize_streaming_latency: LatencyQuery = None,
) -> StreamingResponse:
    job = _job(ctx, voice_id, body, output_format, flags, Mode.STREAMING)

    async def lines() -> AsyncIterator[bytes]:
        async for piece in tts_service.run(job):
            if not piece.audio and not piece.alignment:
                continue
            alignment = _alignment(piece.alignment) if piece.alignment else None
            line = {
                "audio_base64": base64.b64encode(piece.audio).decode(),
                "alignment": alignment,
                "normalized_alignment": alignment,
            }
            yield json.dumps(line).encode() + b"\n"

    return StreamingResponse(await tts_service.primed(lines()), media_type="application/x-ndjson")
