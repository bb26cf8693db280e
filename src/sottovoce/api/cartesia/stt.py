"""Cartesia ``POST /stt``: a container upload, or raw PCM with ``encoding`` and ``sample_rate``
in the query, transcribed in one reply."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from sottovoce.api.cartesia.aliases import ALIASES
from sottovoce.api.deps import Flags, context
from sottovoce.api.multipart import read_upload
from sottovoce.audio.pcm import PcmEncoding
from sottovoce.errors import InvalidRequest
from sottovoce.privacy.eligibility import Product
from sottovoce.services.context import RequestContext
from sottovoce.services.stt_files import FileAsk, transcribe_file

router = APIRouter(tags=["Cartesia: speech to text"])


@router.post("/stt")
async def stt(
    request: Request,
    ctx: Annotated[RequestContext, Depends(context(Product.STT))],
    flags: Flags,
    encoding: Annotated[PcmEncoding | None, Query(description="raw PCM encoding")] = None,
    sample_rate: Annotated[int | None, Query(description="raw PCM sample rate")] = None,
) -> JSONResponse:
    form = await read_upload(request, ctx.settings)
    if (encoding is None) != (sample_rate is None):
        raise InvalidRequest(
            "Raw audio needs both 'encoding' and 'sample_rate'.", fields=["encoding", "sample_rate"]
        )
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
        raw_sample_rate=sample_rate,
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
