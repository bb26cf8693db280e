"""ElevenLabs ``POST /v1/speech-to-text``: multipart upload in, words with timings out.

The SDK always sends ``webhook_metadata``, ``entity_detection`` and ``entity_redaction`` as the
string ``"null"``; they are accepted and ignored. Features the local model cannot provide
(webhooks, cloud URLs, entity detection) are refused with a 422 that names the field.

``use_multi_channel=true`` transcribes each channel of a 2-5 channel upload on its own: one
transcript per channel under ``transcripts`` (``multichannel_output_style=separate``, the
default) or one transcript whose words from all channels are sorted by time (``combined``).
Each word then carries its ``channel_index`` and the speaker id ``speaker_<channel>``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from sottovoce.api.bodies import AUDIO_FILE, FLAG, LANGUAGE, choice, form_body, number
from sottovoce.api.deps import Flags, context
from sottovoce.api.elevenlabs.aliases import ALIASES
from sottovoce.api.multipart import read_upload
from sottovoce.audio.pcm import PcmEncoding
from sottovoce.engines.base import Transcript, Word
from sottovoce.errors import InvalidRequest
from sottovoce.privacy.eligibility import Product
from sottovoce.services.context import RequestContext
from sottovoce.services.stt_files import Channels, FileAsk, transcribe_file

router = APIRouter(tags=["ElevenLabs: speech to text"])

_UNSUPPORTED = ("cloud_storage_url", "source_url", "webhook_id", "transcript_edit")
_IGNORED_NULLS = ("webhook_metadata", "entity_detection", "entity_redaction")
_GRANULARITIES = ("none", "word", "character")
_OUTPUT_STYLES = ("separate", "combined")
_FILE_FORMATS = ("other", "pcm_s16le_16")
_NULL_TEXT = {"type": "string", "enum": ["null"]}

FORM = form_body(
    {
        "file": AUDIO_FILE,
        "model_id": {"type": "string"},
        "language_code": LANGUAGE,
        "timestamps_granularity": choice(_GRANULARITIES),
        "file_format": {
            **choice(_FILE_FORMATS),
            "description": "pcm_s16le_16: the file is raw 16-bit PCM at 16 kHz, mono.",
        },
        "diarize": FLAG,
        "tag_audio_events": FLAG,
        "use_multi_channel": FLAG,
        "multichannel_output_style": choice(_OUTPUT_STYLES),
        "temperature": number(0.0, 2.0),
        "webhook": {"type": "boolean", "const": False},
        # The SDK always sends these three as "null"; anything else is refused.
        **dict.fromkeys(_IGNORED_NULLS, _NULL_TEXT),
    },
    required=["file"],
    rules=[
        {
            "if": {
                "required": ["use_multi_channel", "multichannel_output_style"],
                "properties": {
                    "use_multi_channel": {"const": True},
                    "multichannel_output_style": {"const": "combined"},
                },
            },
            # A combined transcript is sorted by its words' times.
            "then": {"properties": {"timestamps_granularity": {"enum": ["word", "character"]}}},
        }
    ],
)


def _heard_on(entry: dict[str, Any], channel: int | None) -> dict[str, Any]:
    entry["speaker_id"] = f"speaker_{channel or 0}"
    if channel is not None:
        entry["channel_index"] = channel
    return entry


def word_entries(words: Sequence[Word], granularity: str) -> list[dict[str, Any]]:
    """Words and the spacing between them, ElevenLabs style."""
    if granularity == "none":
        return []
    entries: list[dict[str, Any]] = []
    previous: Word | None = None
    for word in words:
        text = word.text.strip()
        if previous is not None:
            spacing = {"text": " ", "start": previous.end, "end": word.start, "type": "spacing"}
            entries.append(_heard_on(spacing, word.channel) | {"logprob": 0.0})
        entry: dict[str, Any] = _heard_on(
            {"text": text, "start": word.start, "end": word.end, "type": "word"}, word.channel
        )
        entry["logprob"] = round(math.log(max(word.probability or 1.0, 1e-9)), 4)
        if granularity == "character" and text:
            step = (word.end - word.start) / len(text)
            entry["characters"] = [
                {
                    "text": c,
                    "start": round(word.start + i * step, 3),
                    "end": round(word.start + (i + 1) * step, 3),
                }
                for i, c in enumerate(text)
            ]
        entries.append(entry)
        previous = word
    return entries


@router.post("/v1/speech-to-text", openapi_extra=FORM)
async def speech_to_text(
    request: Request,
    ctx: Annotated[RequestContext, Depends(context(Product.STT))],
    flags: Flags,
) -> JSONResponse:
    form = await read_upload(request, ctx.settings)
    for name in _UNSUPPORTED:
        if form.get(name) not in (None, "", "null"):
            raise InvalidRequest(f"'{name}' is not supported by this server.", fields=[name])
    if form.flag("webhook", False):
        raise InvalidRequest("Webhooks are not supported by this server.", fields=["webhook"])
    for name in _IGNORED_NULLS:
        if form.get(name) not in (None, "", "null"):
            raise InvalidRequest(f"'{name}' is not supported by this server.", fields=[name])
    granularity = form.get("timestamps_granularity") or "word"
    if granularity not in _GRANULARITIES:
        raise InvalidRequest(
            "'timestamps_granularity' must be none, word or character.",
            fields=["timestamps_granularity"],
        )
    file_format = form.get("file_format") or "other"
    if file_format not in _FILE_FORMATS:
        raise InvalidRequest("'file_format' must be other or pcm_s16le_16.", fields=["file_format"])
    form.flag("diarize", False)
    form.flag("tag_audio_events", True)
    multi_channel = form.flag("use_multi_channel", False)
    style = form.get("multichannel_output_style") or "separate"
    if style not in _OUTPUT_STYLES:
        raise InvalidRequest(
            "'multichannel_output_style' must be separate or combined.",
            fields=["multichannel_output_style"],
        )
    if multi_channel and style == "combined" and granularity == "none":
        raise InvalidRequest(
            "A combined multi-channel transcript needs timestamps.",
            fields=["timestamps_granularity"],
        )
    upload = form.require_file()
    ask = FileAsk(
        audio=upload.data,
        content_type=upload.content_type,
        model=ALIASES.stt_model(form.get("model_id")),
        flags=flags,
        language=form.get("language_code") or None,
        word_timestamps=granularity != "none",
        temperature=form.number("temperature", 0.0, 2.0),
        raw_sample_rate=16000 if file_format == "pcm_s16le_16" else None,
        raw_encoding=PcmEncoding.S16LE,
        channels=Channels.SPLIT if multi_channel else Channels.AUTO,
        channels_field="use_multi_channel",
        settings={"timestamps_granularity": granularity, "use_multi_channel": multi_channel},
    )
    result = await transcribe_file(ctx, ask)
    transcription_id = result.history_item_id or ctx.request_id
    if multi_channel and result.channels and style == "separate":
        return JSONResponse(
            {
                "transcripts": [
                    _chunk(c.reveal(), granularity) | {"channel_index": i}
                    for i, c in enumerate(result.channels)
                ],
                "transcription_id": transcription_id,
                "audio_duration_secs": round(result.duration, 3),
            }
        )
    return JSONResponse(
        _chunk(result.transcript.reveal(), granularity, by_time=multi_channel)
        | {"transcription_id": transcription_id, "audio_duration_secs": round(result.duration, 3)}
    )


def _chunk(transcript: Transcript, granularity: str, *, by_time: bool = False) -> dict[str, Any]:
    """One transcript in ElevenLabs' shape; ``by_time`` sorts the words across channels."""
    words = transcript.words
    if by_time:
        words = tuple(sorted(words, key=lambda w: (w.start, w.channel or 0)))
    return {
        "language_code": transcript.language,
        "language_probability": round(transcript.language_probability, 4),
        "text": transcript.text,
        "words": word_entries(words, granularity),
    }
