"""Inworld speech-to-text: ``POST /stt/v1/transcribe``, one reply for a whole recording.

Body: ``{"transcribeConfig": {"modelId", "language", "audioEncoding", "sampleRateHertz"},
"audioData": {"content": base64}}`` (the config fields may also sit at the top level).
``modelId`` is Inworld's router id, ``provider/model``: Inworld's own models are the default
model; ``groq/whisper-large-v3``, ``assemblyai/...``, ``deepgram/...`` go to the provider of
that name when the operator configured it (404 otherwise). ``audioEncoding``: ``LINEAR16``
(raw 16-bit PCM at ``sampleRateHertz``, default 16000, or a WAV), ``MP3``, ``OGG_OPUS``,
``FLAC``, ``AUTO_DETECT``. Reply: ``{"transcription": {"transcript", "isFinal",
"wordTimestamps": [{"word", "startTimeMs", "endTimeMs", "confidence"}]}, "usage":
{"transcribedAudioMs", "modelId"}}``. The JSON body may be as large as an upload
(``stt.max_upload_bytes``), not only ``limits.max_json_bytes``.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from sottovoce.api.bodies import AUDIO_BASE64, LANGUAGE
from sottovoce.api.deps import Flags, context
from sottovoce.api.inworld.aliases import stt_model
from sottovoce.api.params import nullable
from sottovoce.audio.pcm import PcmEncoding
from sottovoce.engines.base import Transcript
from sottovoce.errors import InvalidRequest, PayloadTooLarge
from sottovoce.privacy.eligibility import Product
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.services.context import RequestContext
from sottovoce.services.stt_files import FileAsk, transcribe_file

router = APIRouter(prefix="/stt/v1", tags=["Inworld: speech to text"])
SttContext = Annotated[RequestContext, Depends(context(Product.STT))]
ENCODINGS = ("LINEAR16", "MP3", "OGG_OPUS", "FLAC", "AUTO_DETECT", "WAV")


class TranscribeConfig(BaseModel):
    model_config = ConfigDict(extra="ignore")
    modelId: str | None = Field(default=None, max_length=200)
    # Regional codes (en-US) are read as their language (en).
    language: str | None = Field(default=None, max_length=20, json_schema_extra=nullable(LANGUAGE))
    audioEncoding: str | None = Field(
        default=None,
        max_length=20,
        json_schema_extra=nullable({"type": "string", "enum": list(ENCODINGS)}),
    )
    sampleRateHertz: int | None = Field(default=None, ge=4000, le=192_000)


class AudioData(BaseModel):
    model_config = ConfigDict(extra="ignore")
    content: Sensitive[str] = Field(json_schema_extra=AUDIO_BASE64)


class TranscribeBody(TranscribeConfig):
    transcribeConfig: TranscribeConfig | None = None
    audioData: AudioData


def config_of(body: TranscribeBody) -> TranscribeConfig:
    return body.transcribeConfig or body


def encoding_of(config: TranscribeConfig) -> str:
    name = (config.audioEncoding or "AUTO_DETECT").upper()
    if name not in ENCODINGS:
        raise InvalidRequest(
            "Unsupported audioEncoding; supported: " + ", ".join(ENCODINGS),
            fields=["transcribeConfig.audioEncoding"],
        )
    return name


def language_of(config: TranscribeConfig) -> str | None:
    return config.language.split("-")[0].lower() if config.language else None


def word_timestamps(transcript: Transcript) -> list[dict[str, Any]]:
    return [
        {
            "word": w.text.strip(),
            "startTimeMs": round(w.start * 1000),
            "endTimeMs": round(w.end * 1000),
            "confidence": round(w.probability if w.probability is not None else 1.0, 4),
        }
        for w in transcript.words
    ]


def _decoded(content: Sensitive[str], limit: int) -> bytes:
    if content.size > limit * 4 // 3 + 4:
        raise PayloadTooLarge("The audio is larger than this server accepts.")
    try:
        return base64.b64decode(content.reveal(), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRequest(
            "audioData.content is not base64.", fields=["audioData.content"]
        ) from None


@router.post("/transcribe")
async def transcribe(body: TranscribeBody, ctx: SttContext, flags: Flags) -> dict[str, Any]:
    config = config_of(body)
    encoding = encoding_of(config)
    audio = _decoded(body.audioData.content, ctx.settings.stt.max_upload_bytes)
    raw = encoding == "LINEAR16" and not audio.startswith(b"RIFF")
    ask = FileAsk(
        audio=Sensitive(audio),
        content_type=None,
        model=stt_model(config.modelId),
        flags=flags,
        language=language_of(config),
        raw_sample_rate=(config.sampleRateHertz or 16000) if raw else None,
        raw_encoding=PcmEncoding.S16LE,
        settings={"model": config.modelId, "audio_encoding": encoding},
    )
    del audio
    result = await transcribe_file(ctx, ask)
    transcript = result.transcript.reveal()
    return {
        "transcription": {
            "transcript": transcript.text,
            "isFinal": True,
            "wordTimestamps": word_timestamps(transcript),
        },
        "usage": {
            "transcribedAudioMs": round(result.duration * 1000),
            "modelId": config.modelId or ctx.usage.model_id,
        },
    }
