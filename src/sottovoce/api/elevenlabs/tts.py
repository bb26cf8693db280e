"""ElevenLabs text-to-speech: ``/v1/text-to-speech/{voice_id}`` and its streaming and
timestamped variants, as the ``elevenlabs`` SDK calls them.

``enable_logging=false`` asks for zero retention on this request. Alignment is per character,
derived from the engine's phoneme durations; the text is not normalized, so
``normalized_alignment`` repeats ``alignment``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from sottovoce.api.deps import Flags, context
from sottovoce.api.elevenlabs.aliases import ALIASES
from sottovoce.api.elevenlabs.formats import FORMAT_ENUM, output_format
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


@dataclass
class TtsQuery:
    """The query of every TTS route (``enable_logging`` is read as the retention flags)."""

    output_format: Annotated[str | None, Query(json_schema_extra=FORMAT_ENUM)] = None
    optimize_streaming_latency: Annotated[int | None, Query(ge=0, le=4)] = None
    """Accepted; the local engine's first chunk is always as short as it can be."""


Params = Annotated[TtsQuery, Depends()]


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


def speech_ask(
    voice_id: str,
    voice_settings: VoiceSettings | None,
    model_id: str | None,
    output: str | None,
    flags: RequestFlags,
    mode: Mode,
) -> SpeechAsk:
    """One utterance as ElevenLabs asks for it (also used by the TTS sockets)."""
    vs = voice_settings or VoiceSettings()
    kept = {k: v for k, v in vs.model_dump().items() if v is not None and k != "speed"}
    return SpeechAsk(
        output=output_format(output),
        voice_id=ALIASES.voice(voice_id),
        model_id=ALIASES.tts_model(model_id),
        speed=vs.speed if vs.speed is not None else 1.0,
        flags=flags,
        mode=mode,
        settings=kept,
    )


def speech(
    ctx: RequestContext,
    voice_id: str,
    voice_settings: VoiceSettings | None,
    model_id: str | None,
    output: str | None,
    flags: RequestFlags,
    mode: Mode,
) -> Speech:
    """The product for one utterance, validated and decided."""
    return Speech(ctx, speech_ask(voice_id, voice_settings, model_id, output, flags, mode))


@dataclass(frozen=True)
class Utterance:
    """One route's request: the product, decided, and the text it will speak."""

    speech: Speech
    text: Sensitive[str]

    def events(self) -> AsyncIterator[Event]:
        return self.speech.speak(self.text)


def utterance(mode: Mode) -> Callable[..., Awaitable[Utterance]]:
    async def dependency(
        voice_id: str, body: TtsBody, ctx: TtsContext, flags: Flags, query: Params
    ) -> Utterance:
        vs, output = body.voice_settings, query.output_format
        return Utterance(speech(ctx, voice_id, vs, body.model_id, output, flags, mode), body.text)

    return dependency


OneReply = Annotated[Utterance, Depends(utterance(Mode.SYNC))]
Streamed = Annotated[Utterance, Depends(utterance(Mode.STREAMING))]


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
async def convert(tts: OneReply) -> Response:
    audio, _ = await collect(tts.events(), tts.speech.output)
    return Response(content=audio, media_type=tts.speech.output.media_type)


@router.post("/{voice_id}/stream")
async def stream(tts: Streamed) -> StreamingResponse:
    return await stream_events(tts.events(), _audio_bytes, tts.speech.output.media_type)


@router.post("/{voice_id}/with-timestamps")
async def convert_with_timestamps(tts: OneReply) -> Response:
    audio, chars = await collect(tts.events(), tts.speech.output)
    aligned = alignment(chars)
    payload = {
        "audio_base64": base64.b64encode(audio).decode(),
        "alignment": aligned,
        "normalized_alignment": aligned,
    }
    return Response(content=json.dumps(payload), media_type="application/json")


@router.post("/{voice_id}/stream/with-timestamps")
async def stream_with_timestamps(tts: Streamed) -> StreamingResponse:
    return await stream_events(tts.events(), _timestamped_line, "application/x-ndjson")
