"""Cartesia ``POST /stt``: a container upload, or raw PCM with ``encoding`` (and ``sample_rate``,
16000 when not sent) in the query, transcribed in one reply. Without ``encoding`` the file is
decoded as the container it is, and a ``sample_rate`` is not needed (the file says its own)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from sottovoce.api.bodies import AUDIO_FILE, LANGUAGE, choice, form_body
from sottovoce.api.cartesia.aliases import ALIASES
from sottovoce.api.deps import Flags, context
from sottovoce.api.multipart import read_upload
from sottovoce.audio.pcm import MAX_RATE, MIN_RATE, PcmEncoding
from sottovoce.errors import InvalidRequest
from sottovoce.privacy.eligibility import Product
from sottovoce.services.context import RequestContext
from sottovoce.services.stt_files import FileAsk, transcribe_file

router = APIRouter(tags=["Cartesia: speech to text"])
RAW_RATE = 16000
"""Raw PCM's rate when ``encoding`` comes without ``sample_rate``."""
FORM = form_body(
    {
        "file": AUDIO_FILE,
        "model": {"type": "string"},
        "language": LANGUAGE,
        "timestamp_granularities[]": {"type": "array", "items": choice(["word"])},
    },
    required=["file"],
)


@router.post("/stt", openapi_extra=FORM)
async def stt(
    request: Request,
    ctx: Annotated[RequestContext, Depends(context(Product.STT))],
    flags: Flags,
    encoding: Annotated[
        PcmEncoding | None, Query(description="The file is raw PCM in this encoding.")
    ] = None,
    sample_rate: Annotated[
        int | None,
        Query(ge=MIN_RATE, le=MAX_RATE, description="Raw PCM's rate (with encoding)."),
    ] = None,
) -> JSONResponse:
    form = await read_upload(request, ctx.settings)
    granularities = set(form.get_all("timestamp_granularities[]"))
    if not granularities <= {"word"}:
        raise InvalidRequest(
            "'timestamp_granularities[]' may hold word only.", fields=["timestamp_granularities[]"]
        )
    upload = form.require_file()
    ask = FileAsk(
        audio=upload.data,
        content_type=upload.content_type,
        model=ALIASES.stt_model(form.get("model")),
        flags=flags,
        language=form.get("language") or None,
        word_timestamps=True,
        raw_sample_rate=(sample_rate or RAW_RATE) if encoding is not None else None,
        raw_encoding=encoding or PcmEncoding.S16LE,
    )
    result = await transcribe_file(ctx, ask)
    transcript = result.transcript.reveal()
    body = {
        "type": "transcript",
        "request_id": ctx.request_id,
        "text": transcript.text,
        "is_final": True,
        "duration": round(result.duration, 3),
        "language": transcript.language,
        "words": [
            {"word": w.text.strip(), "start": w.start, "end": w.end} for w in transcript.words
        ],
    }
    return JSONResponse(body)
