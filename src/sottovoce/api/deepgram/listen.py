"""Deepgram pre-recorded transcription: ``POST /v1/listen``, as the ``deepgram-sdk`` calls it
(``listen.v1.media.transcribe_file``).

The body is the audio itself (any container the server decodes, or raw PCM with ``encoding``
and ``sample_rate`` in the query); a JSON ``{"url"}`` body is refused: this server fetches no
URLs. Query: ``model`` (a Deepgram name such as ``nova-3`` is the default model; a registry id
``provider/model`` routes to that engine), ``language``, ``multichannel`` (one result per
channel), ``utterances``, ``punctuate``, ``smart_format``, ``diarize``, ``mip_opt_out``
(accepted: sottovoce never uses content to improve models) and ``enable_logging=false`` (zero
retention for this request). The reply is Deepgram's ``{"metadata", "results": {"channels":
[{"alternatives": [{"transcript", "confidence", "words"}]}]}}``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from sottovoce.api import params
from sottovoce.api.bodies import raw_audio_body
from sottovoce.api.deepgram.aliases import stt_model
from sottovoce.api.deps import context
from sottovoce.audio.pcm import PcmEncoding
from sottovoce.engines.base import Segment, Transcript, Word
from sottovoce.errors import InvalidRequest, PayloadTooLarge
from sottovoce.privacy.eligibility import Product
from sottovoce.privacy.policy import RequestFlags
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.services.context import RequestContext
from sottovoce.services.stt_files import Channels, FileAsk, transcribe_file

router = APIRouter(tags=["Deepgram: speech to text"])
SttContext = Annotated[RequestContext, Depends(context(Product.STT))]

ENCODINGS = {
    "linear16": PcmEncoding.S16LE,
    "linear32": PcmEncoding.S32LE,
    "mulaw": PcmEncoding.MULAW,
    "alaw": PcmEncoding.ALAW,
}
_UNSUPPORTED = ("callback", "callback_method")
_PUNCTUATION = re.compile(r"[^\w'-]+")


def flags_of(query: Mapping[str, str]) -> RequestFlags:
    params.flag(query.get("mip_opt_out"), "mip_opt_out")
    return RequestFlags(enable_logging=params.flag(query.get("enable_logging"), "enable_logging"))


def raw_format(query: Mapping[str, str], *, required: bool) -> tuple[PcmEncoding, int] | None:
    """``encoding`` and ``sample_rate`` of raw audio (``None``: a container is sent)."""
    name = query.get("encoding")
    if not name and not required:
        return None
    encoding = ENCODINGS.get((name or "linear16").lower())
    if encoding is None:
        raise InvalidRequest(
            "Unsupported encoding; supported: " + ", ".join(ENCODINGS), fields=("encoding",)
        )
    rate = params.number(query.get("sample_rate"), "sample_rate", 8000, 48000)
    if rate is None:
        if required or name:
            raise InvalidRequest("Raw audio needs a sample_rate.", fields=("sample_rate",))
        rate = 16000
    return encoding, int(rate)


def word_entries(words: tuple[Word, ...]) -> list[dict[str, Any]]:
    entries = []
    for w in words:
        punctuated = w.text.strip()
        entry: dict[str, Any] = {
            "word": _PUNCTUATION.sub("", punctuated).lower() or punctuated,
            "start": w.start,
            "end": w.end,
            "confidence": round(w.probability if w.probability is not None else 1.0, 4),
            "punctuated_word": punctuated,
        }
        if w.channel is not None:
            entry["speaker"] = w.channel
        entries.append(entry)
    return entries


def alternative(transcript: Transcript) -> dict[str, Any]:
    words = transcript.words
    confidence = [w.probability for w in words if w.probability is not None]
    return {
        "transcript": transcript.text,
        "confidence": round(sum(confidence) / len(confidence), 4) if confidence else 1.0,
        "words": word_entries(words),
    }


def _utterance(index: int, segment: Segment) -> dict[str, Any]:
    return {
        "id": f"utt_{index}",
        "start": segment.start,
        "end": segment.end,
        "confidence": 1.0,
        "channel": segment.channel or 0,
        "transcript": segment.text.strip(),
        "words": word_entries(segment.words),
        "speaker": segment.channel or 0,
    }


async def _body(request: Request, limit: int) -> bytes:
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise PayloadTooLarge("The audio is larger than this server accepts.")
    return bytes(data)


@router.post("/v1/listen", openapi_extra=raw_audio_body())
async def listen(request: Request, ctx: SttContext) -> JSONResponse:
    query = request.query_params
    for name in _UNSUPPORTED:
        if query.get(name):
            raise InvalidRequest(f"'{name}' is not supported by this server.", fields=(name,))
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        raise InvalidRequest("This server fetches no URLs: send the audio itself.", fields=("url",))
    flags = flags_of(query)
    multichannel = params.flag(query.get("multichannel"), "multichannel") or False
    utterances = params.flag(query.get("utterances"), "utterances") or False
    for name in ("punctuate", "smart_format", "diarize", "numerals", "profanity_filter"):
        params.flag(query.get(name), name)
    raw = raw_format(query, required=False)
    limit = min(ctx.settings.stt.max_upload_bytes, ctx.settings.limits.max_body_bytes)
    audio = await _body(request, limit)
    model = query.get("model") or "nova-3"
    ask = FileAsk(
        audio=Sensitive(audio),
        content_type=content_type or None,
        model=stt_model(model),
        flags=flags,
        language=query.get("language") or None,
        raw_sample_rate=raw[1] if raw else None,
        raw_encoding=raw[0] if raw else PcmEncoding.S16LE,
        channels=Channels.SPLIT if multichannel else Channels.AUTO,
        channels_field="multichannel",
        settings={"model": model, "multichannel": multichannel},
    )
    del audio
    result = await transcribe_file(ctx, ask)
    transcript = result.transcript.reveal()
    channels = [c.reveal() for c in result.channels] if multichannel and result.channels else []
    results: dict[str, Any] = {
        "channels": [
            {"alternatives": [alternative(t)], "detected_language": t.language}
            for t in (channels or [transcript])
        ]
    }
    if utterances:
        results["utterances"] = [_utterance(i, s) for i, s in enumerate(transcript.segments)]
    model_uuid = ctx.usage.model_id or ""
    metadata = {
        "transaction_key": "deprecated",
        "request_id": ctx.request_id,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
        "duration": round(result.duration, 3),
        "channels": len(channels) or 1,
        "models": [model_uuid],
        "model_info": {model_uuid: {"name": model, "version": "sottovoce", "arch": model_uuid}},
    }
    return JSONResponse({"metadata": metadata, "results": results})
