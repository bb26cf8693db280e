"""Inworld text-to-speech: ``POST /tts/v1/voice`` (one reply) and ``POST /tts/v1/voice:stream``
(newline-delimited JSON, one ``{"result": {...}}`` per audio chunk), as the ``inworld-tts`` SDK
calls them.

Inworld switches zero retention per workspace; ``?enable_logging=false`` works here too. The
reply's ``timestampInfo`` (``timestampType`` ``WORD`` or ``CHARACTER``) comes from the engine's
character alignment.
"""

from __future__ import annotations

import base64
import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from sottovoce.api.deps import Flags, context
from sottovoce.api.inworld.aliases import ALIASES
from sottovoce.api.inworld.errors import status
from sottovoce.api.inworld.formats import (
    BIT_RATE_SCHEMA,
    ENCODING_SCHEMA,
    OPUS_RATE_RULE,
    RATE_SCHEMA,
    output_format,
)
from sottovoce.api.params import nullable
from sottovoce.api.streaming import stream_events
from sottovoce.errors import InvalidRequest
from sottovoce.privacy.eligibility import Product
from sottovoce.privacy.policy import RequestFlags
from sottovoce.privacy.providers import Mode
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.services.context import RequestContext
from sottovoce.services.events import Audio, CharTimes, Done, Event, Failed, word_times
from sottovoce.services.tts import Speech, SpeechAsk, collect

router = APIRouter(prefix="/tts/v1", tags=["Inworld: text to speech"])
TtsContext = Annotated[RequestContext, Depends(context(Product.TTS))]
MAX_TEXT_CHARS = 2000
"""Inworld's limit on one request's text (its SDK cuts longer texts into requests)."""

TimestampType = Literal["WORD", "CHARACTER", "TIMESTAMP_TYPE_UNSPECIFIED"]


class AudioConfig(BaseModel):
    """Checked by :func:`output_format`; the document says what it serves."""

    model_config = ConfigDict(extra="ignore", json_schema_extra=OPUS_RATE_RULE)
    audioEncoding: str | None = Field(
        default=None, max_length=20, json_schema_extra=nullable(ENCODING_SCHEMA)
    )
    sampleRateHertz: int | None = Field(default=None, gt=0, json_schema_extra=nullable(RATE_SCHEMA))
    bitRate: int | None = Field(default=None, gt=0, json_schema_extra=nullable(BIT_RATE_SCHEMA))
    speakingRate: float | None = Field(default=None, ge=0.5, le=1.5)


class VoiceBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    text: Sensitive[str]
    voiceId: str = Field(max_length=100)
    modelId: str | None = Field(default=None, max_length=100)
    audioConfig: AudioConfig | None = None
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    timestampType: TimestampType | None = None
    applyTextNormalization: str | None = Field(default=None, max_length=40)
    language: str | None = Field(default=None, max_length=16)


def _speech(ctx: RequestContext, body: VoiceBody, flags: RequestFlags, mode: Mode) -> Speech:
    config = body.audioConfig or AudioConfig()
    if body.text.size > MAX_TEXT_CHARS:
        raise InvalidRequest(
            f"The text is longer than {MAX_TEXT_CHARS} characters.", fields=["text"]
        )
    ask = SpeechAsk(
        output=output_format(config.audioEncoding, config.sampleRateHertz, config.bitRate),
        voice_id=ALIASES.voice(body.voiceId),
        model_id=ALIASES.tts_model(body.modelId),
        speed=config.speakingRate or 1.0,
        flags=flags,
        mode=mode,
        settings={k: v for k, v in {"temperature": body.temperature}.items() if v is not None},
    )
    return Speech(ctx, ask)


def timestamp_info(chars: CharTimes, kind: TimestampType | None) -> dict[str, Any] | None:
    """Inworld's ``timestampInfo`` from the characters and their times."""
    if kind == "CHARACTER":
        return {
            "characterAlignment": {
                "characters": [c for c, _, _ in chars],
                "characterStartTimeSeconds": [s for _, s, _ in chars],
                "characterEndTimeSeconds": [e for _, _, e in chars],
            }
        }
    if kind == "WORD":
        timed = word_times(chars)
        return {
            "wordAlignment": {
                "words": timed.words,
                "wordStartTimeSeconds": timed.starts,
                "wordEndTimeSeconds": timed.ends,
                "phoneticDetails": [],
            }
        }
    return None


def _usage(tts: Speech, chars: int) -> dict[str, Any]:
    return {"processedCharactersCount": chars, "modelId": tts.engine.info.model_id}


@router.post("/voice")
async def synthesize(body: VoiceBody, ctx: TtsContext, flags: Flags) -> JSONResponse:
    tts = _speech(ctx, body, flags, Mode.SYNC)
    audio, chars = await collect(tts.speak(body.text), tts.output)
    reply: dict[str, Any] = {
        "audioContent": base64.b64encode(audio).decode(),
        "usage": _usage(tts, body.text.size),
    }
    if (info := timestamp_info(chars, body.timestampType)) is not None:
        reply["timestampInfo"] = info
    return JSONResponse(reply)


@router.post("/voice:stream")
async def synthesize_stream(body: VoiceBody, ctx: TtsContext, flags: Flags) -> StreamingResponse:
    tts = _speech(ctx, body, flags, Mode.STREAMING)

    def line(payload: dict[str, Any]) -> bytes:
        return json.dumps(payload).encode() + b"\n"

    def write(event: Event) -> bytes | None:
        if isinstance(event, Audio) and event.data:
            result: dict[str, Any] = {
                "audioContent": base64.b64encode(event.data.reveal()).decode()
            }
            chars = event.alignment.reveal() if event.alignment is not None else ()
            if chars and (info := timestamp_info(chars, body.timestampType)) is not None:
                result["timestampInfo"] = info
            return line({"result": result})
        if isinstance(event, Done):
            return line({"result": {"usage": _usage(tts, body.text.size)}})
        if isinstance(event, Failed):
            return line({"error": status(event.error, ctx.request_id)})
        return None

    return await stream_events(tts.speak(body.text), write, "application/x-ndjson")
