"""ElevenLabs ``POST /v1/speech-to-text``: multipart upload in, words with timings out.

The SDK always sends ``webhook_metadata``, ``entity_detection`` and ``entity_redaction`` as the
string ``"null"``; they are accepted and ignored. Features the local model cannot provide
(webhooks, cloud URLs, entity detection) are refused with a 422 that names the field.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from sottovoce.api.deps import RequestContext, context, retention_flags
from sottovoce.api.transcription import (
    FileJob,
    parse_bool,
    parse_float,
    read_upload,
    require_file,
    transcribe_file,
)
from sottovoce.audio.pcm import PcmEncoding
from sottovoce.engines.base import Transcript, Word
from sottovoce.errors import InvalidRequest
from sottovoce.privacy.eligibility import Product
from sottovoce.privacy.policy import RequestFlags

router = APIRouter(tags=["ElevenLabs: speech to text"])

_UNSUPPORTED = ("cloud_storage_url", "source_url", "webhook_id", "transcript_edit")
_IGNORED_NULLS = ("webhook_metadata", "entity_detection", "entity_redaction")
_GRANULARITIES = ("none", "word", "character")


def word_entries(transcript: Transcript, granularity: str) -> list[dict[str, Any]]:
    """Words and the spacing between them, ElevenLabs style."""
    if granularity == "none":
        return []
    entries: list[dict[str, Any]] = []
    previous: Word | None = None
    for word in transcript.words:
        text = word.text.strip()
        if previous is not None:
            entries.append(
                {
                    "text": " ",
                    "start": previous.end,
                    "end": word.start,
                    "type": "spacing",
                    "speaker_id": "speaker_0",
                    "logprob": 0.0,
                }
            )
        entry: dict[str, Any] = {
            "text": text,
            "start": word.start,
            "end": word.end,
            "type": "word",
            "speaker_id": "speaker_0",
            "logprob": round(math.log(max(word.probability or 1.0, 1e-9)), 4),
        }
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


@router.post("/v1/speech-to-text")
async def speech_to_text(
    request: Request,
    ctx: Annotated[RequestContext, Depends(context(Product.STT))],
    flags: Annotated[RequestFlags, Depends(retention_flags)],
) -> JSONResponse:
    form = await read_upload(request, ctx)
    for name in _UNSUPPORTED:
        if form.get(name) not in (None, "", "null"):
            raise InvalidRequest(f"'{name}' is not supported by this server.", fields=[name])
    if parse_bool(form, "webhook", False):
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
    if file_format not in ("other", "pcm_s16le_16"):
        raise InvalidRequest("'file_format' must be other or pcm_s16le_16.", fields=["file_format"])
    parse_bool(form, "diarize", False)
    parse_bool(form, "tag_audio_events", True)
    job = FileJob(
        upload=require_file(form),
        model=form.get("model_id"),
        language=form.get("language_code") or None,
        word_timestamps=granularity != "none",
        temperature=parse_float(form, "temperature", 0.0, 2.0),
        raw_sample_rate=16000 if file_format == "pcm_s16le_16" else None,
        raw_encoding=PcmEncoding.S16LE,
        settings={"timestamps_granularity": granularity},
    )
    result = await transcribe_file(ctx, flags, job)
    transcript = result.transcript.reveal()
    return JSONResponse(
        {
            "language_code": transcript.language,
            "language_probability": round(transcript.language_probability, 4),
            "text": transcript.text,
            "words": word_entries(transcript, granularity),
            "transcription_id": result.history_item_id or ctx.request_id,
            "audio_duration_secs": round(result.duration, 3),
        }
    )
