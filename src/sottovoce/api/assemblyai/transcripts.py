"""AssemblyAI's async API: ``POST /v2/upload``, ``POST /v2/transcript``, ``GET /v2/transcript``,
``GET|DELETE /v2/transcript/{id}``, as the ``assemblyai`` SDK's ``Transcriber`` calls them with
``aai.settings.base_url`` pointed here.

The upload is held in memory (never on disk) until a transcript is made of it; ``audio_url``
must be the ``upload_url`` this server returned: no other URL is fetched. The transcript is made
in the background and held in memory too, for ``speech.async_transcript_ttl_s``; under zero
retention it is dropped once fetched finished (a second fetch is a 404), and every transcript is
lost when the server restarts. Without zero retention it also goes to history. ``speech_model``
picks the engine (AssemblyAI's names: the default one; a registry id routes there);
``speaker_labels`` adds ``utterances``; ``webhook_url`` is refused. ``?enable_logging=false``
asks for zero retention.
"""

from __future__ import annotations

import re
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from sottovoce.api.assemblyai.aliases import language, stt_model
from sottovoce.api.bodies import LANGUAGE, raw_audio_body
from sottovoce.api.deps import Flags, context
from sottovoce.api.params import nullable
from sottovoce.engines.base import Transcript, Word
from sottovoce.errors import InvalidRequest, PayloadTooLarge
from sottovoce.privacy.eligibility import Product
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.services import stt_async
from sottovoce.services.context import RequestContext
from sottovoce.services.stt_files import FileAsk
from sottovoce.services.stt_jobs import Job, JobStatus

router = APIRouter(prefix="/v2", tags=["AssemblyAI: transcripts"])
SttContext = Annotated[RequestContext, Depends(context(Product.STT))]
_UPLOAD_URL = re.compile(r"/v2/upload/([0-9a-f]{32})$")
_NULL: dict[str, Any] = {"anyOf": [{"type": "null"}], "type": "null"}
_UNSUPPORTED = ("webhook_url", "redact_pii", "summarization", "auto_chapters")


class TranscriptIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    audio_url: str = Field(max_length=2000, json_schema_extra={"pattern": _UPLOAD_URL.pattern})
    speech_model: str | None = Field(default=None, max_length=100)
    # AssemblyAI's regional codes (en_us) are read as their language (en).
    language_code: str | None = Field(
        default=None, max_length=20, json_schema_extra=nullable(LANGUAGE)
    )
    punctuate: bool | None = None
    format_text: bool | None = None
    speaker_labels: bool | None = None
    # Refused when set: the document offers them as null only.
    webhook_url: str | None = Field(default=None, max_length=2000, json_schema_extra=_NULL)
    redact_pii: bool | None = Field(default=None, json_schema_extra=_NULL)
    summarization: bool | None = Field(default=None, json_schema_extra=_NULL)
    auto_chapters: bool | None = Field(default=None, json_schema_extra=_NULL)


@router.post("/upload", openapi_extra=raw_audio_body())
async def upload(request: Request, ctx: SttContext) -> dict[str, str]:
    limit = min(ctx.settings.stt.max_upload_bytes, ctx.settings.limits.max_body_bytes)
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise PayloadTooLarge("The audio is larger than this server accepts.")
    if not data:
        raise InvalidRequest("The upload is empty.", fields=["body"])
    upload_id = stt_async.hold_upload(ctx, bytes(data))
    data.clear()
    return {"upload_url": f"{str(request.base_url).rstrip('/')}/v2/upload/{upload_id}"}


@router.post("/transcript")
async def create_transcript(body: TranscriptIn, ctx: SttContext, flags: Flags) -> dict[str, Any]:
    for name in _UNSUPPORTED:
        if getattr(body, name):
            raise InvalidRequest(f"'{name}' is not supported by this server.", fields=[name])
    found = _UPLOAD_URL.search(body.audio_url)
    if found is None:
        raise InvalidRequest(
            "This server fetches no URLs: audio_url must be an upload_url it returned.",
            fields=["audio_url"],
        )
    settings = {
        "audio_url": body.audio_url,
        "speech_model": body.speech_model,
        "language_code": body.language_code,
        "speaker_labels": bool(body.speaker_labels),
    }
    ask = FileAsk(
        audio=Sensitive(b""),  # the upload's audio is taken from memory by the job
        content_type=None,
        model=stt_model(body.speech_model),
        flags=flags,
        language=language(body.language_code),
        settings=settings,
    )
    job = stt_async.submit(ctx, found.group(1), ask)
    return transcript_body(job)


@router.get("/transcript")
async def list_transcripts(
    request: Request, ctx: SttContext, limit: Annotated[int, Query(ge=1, le=200)] = 10
) -> dict[str, Any]:
    jobs = stt_async.listed(ctx)[:limit]
    base = str(request.base_url).rstrip("/")
    return {
        "page_details": {
            "limit": limit,
            "result_count": len(jobs),
            "current_url": f"{base}/v2/transcript",
            "prev_url": None,
            "next_url": None,
        },
        "transcripts": [
            {
                "id": job.id,
                "resource_url": f"{base}/v2/transcript/{job.id}",
                "status": job.status.value,
                "created": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(job.created)),
                "completed": None,
                "audio_url": job.settings.get("audio_url"),
                "error": job.error.message if job.error else None,
            }
            for job in jobs
        ],
    }


@router.get("/transcript/{transcript_id}")
async def get_transcript(transcript_id: str, ctx: SttContext) -> dict[str, Any]:
    job = stt_async.fetch(ctx, transcript_id)
    body = transcript_body(job)
    stt_async.fetched(ctx, job)
    return body


@router.delete("/transcript/{transcript_id}")
async def delete_transcript(transcript_id: str, ctx: SttContext) -> dict[str, Any]:
    job = await stt_async.delete(ctx, transcript_id)
    body = transcript_body(job, content=False)
    body["text"] = "Deleted by user."
    return body


def _words(words: tuple[Word, ...], speaker: str | None) -> list[dict[str, Any]]:
    return [
        {
            "text": w.text.strip(),
            "start": round(w.start * 1000),
            "end": round(w.end * 1000),
            "confidence": round(w.probability if w.probability is not None else 1.0, 4),
            "speaker": speaker,
        }
        for w in words
    ]


def _content(transcript: Transcript, speaker_labels: bool) -> dict[str, Any]:
    speaker = "A" if speaker_labels else None
    words = transcript.words
    confidence = [w.probability for w in words if w.probability is not None]
    body: dict[str, Any] = {
        "text": transcript.text,
        "words": _words(words, speaker),
        "confidence": round(sum(confidence) / len(confidence), 4) if confidence else 1.0,
        "language_code": transcript.language,
    }
    if speaker_labels:
        body["utterances"] = [
            {
                "speaker": chr(ord("A") + (s.channel or 0)),
                "text": s.text.strip(),
                "start": round(s.start * 1000),
                "end": round(s.end * 1000),
                "confidence": 1.0,
                "words": _words(s.words, chr(ord("A") + (s.channel or 0))),
            }
            for s in transcript.segments
        ]
    return body


def transcript_body(job: Job, *, content: bool = True) -> dict[str, Any]:
    settings = job.settings
    body: dict[str, Any] = {
        "id": job.id,
        "status": job.status.value,
        "audio_url": settings.get("audio_url"),
        "speech_model": settings.get("speech_model"),
        "language_code": settings.get("language_code"),
        "punctuate": True,
        "format_text": True,
        "speaker_labels": settings.get("speaker_labels"),
        "text": None,
        "words": None,
        "utterances": None,
        "confidence": None,
        "audio_duration": None,
        "webhook_url": None,
        "error": job.error.message if job.error is not None else None,
    }
    if content and job.status is JobStatus.COMPLETED and job.result is not None:
        body.update(_content(job.result.transcript.reveal(), bool(settings.get("speaker_labels"))))
        body["audio_duration"] = round(job.result.duration)
    return body
