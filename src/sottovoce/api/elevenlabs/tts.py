"""ElevenLabs text-to-speech: ``/v1/text-to-speech/{voice_id}`` and its streaming and
timestamped variants, as the ``elevenlabs`` SDK calls them.

``enable_logging=false`` asks for zero retention on this request. Alignment is per character,
derived from the engine's phoneme durations; the text is not normalized, so
``normalized_alignment`` repeats ``alignment``.
"""

from __future__ import annotations

import base64
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from sottovoce.api.deps import Flags, context
from sottovoce.api.elevenlabs import aliases
from sottovoce.api.elevenlabs.formats import output_format
from sottovoce.api.streaming import stream_events
from sottovoce.privacy.eligibility import Product
from sottovoce.privacy.policy import RequestFlags
from sottovoce.privacy.providers import Mode
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.services.context import RequestContext
from sottovoce.services.events import Audio, CharTimes, Event
from sottovoce.services.tts import Speech, SpeechAsk, collect

router = APIRouter(prefix="/v1/text-to-speech", tags=["ElevenLabs: text to speech"])
TtsContext = Annotated[RequestContext, Depends(context(Product.TTS))]
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


def speech(
    ctx: RequestContext,
    voice_id: str,
    voice_settings: VoiceSettings | None,
    model_id: str | None,
    output: str | None,
    flags: RequestFlags,
    mode: Mode,
) -> Speech:
    """One utterance as ElevenLabs asks for it (also used by the TTS sockets)."""
    vs = voice_settings or VoiceSettings()
    kept = {k: v for k, v in vs.model_dump().items() if v is not None and k != "speed"}
    ask = SpeechAsk(
        output=output_format(output),
        voice_id=aliases.voice(voice_id),
        model_id=aliases.tts_model(model_id),
        speed=vs.speed if vs.speed is not None else 1.0,
        flags=flags,
        mode=mode,
        settings=kept,
    )
    return Speech(ctx, ask)


def alignment(chars: CharTimes) -> dict[str, list[Any]]:
    return {
        "characters": [c for c, _, _ in chars],
        "character_start_times_seconds": [s for _, s, _ in chars],
        "character_end_times_seconds": [e for _, _, e in chars],
    }


def _audio_bytes(event: Event) -> bytes | None:
    return event.data.reveal() if isinstance(event, Audio) else None


def _timestamped_line(event: Event) -> bytes | None:
    if not isinstance(event, Audio):
        return None
    audio = event.data.reveal()
    chars = event.alignment.reveal() if event.alignment is not None else ()
    if not audio and not chars:
        return None
    aligned = alignment(chars) if chars else None
    line = {
        "audio_base64": base64.b64encode(audio).decode(),
        "alignment": aligned,
        "normalized_alignment": aligned,
    }
    return json.dumps(line).encode() + b"\n"


@router.post("/{voice_id}")
async def convert(
    voice_id: str,
    body: TtsBody,
    ctx: TtsContext,
    flags: Flags,
    output_format: OutputFormatQuery = None,
    optimize_streaming_latency: LatencyQuery = None,
) -> Response:
    tts = speech(ctx, voice_id, body.voice_settings, body.model_id, output_format, flags, Mode.SYNC)
    audio, _ = await collect(tts.speak(body.text), tts.output)
    return Response(content=audio, media_type=tts.output.media_type)


@router.post("/{voice_id}/stream")
async def stream(
    voice_id: str,
    body: TtsBody,
    ctx: TtsContext,
    flags: Flags,
    output_format: OutputFormatQuery = None,
    optimize_streaming_latency: LatencyQuery = None,
) -> StreamingResponse:
    tts = speech(
        ctx, voice_id, body.voice_settings, body.model_id, output_format, flags, Mode.STREAMING
    )
    return await stream_events(tts.speak(body.text), _audio_bytes, tts.output.media_type)


@router.post("/{voice_id}/with-timestamps")
async def convert_with_timestamps(
    voice_id: str,
    body: TtsBody,
    ctx: TtsContext,
    flags: Flags,
    output_format: OutputFormatQuery = None,
    optimize_streaming_latency: LatencyQuery = None,
) -> Response:
    tts = speech(ctx, voice_id, body.voice_settings, body.model_id, output_format, flags, Mode.SYNC)
    audio, chars = await collect(tts.speak(body.text), tts.output)
    aligned = alignment(chars)
    payload = {
        "audio_base64": base64.b64encode(audio).decode(),
        "alignment": aligned,
        "normalized_alignment": aligned,
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
    tts = speech(
        ctx, voice_id, body.voice_settings, body.model_id, output_format, flags, Mode.STREAMING
    )
    return await stream_events(tts.speak(body.text), _timestamped_line, "application/x-ndjson")
