"""OpenAI ``POST /v1/audio/transcriptions``: json, text, srt, vtt and verbose_json."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from sottovoce.api.bodies import AUDIO_FILE, LANGUAGE, choice, form_body, number
from sottovoce.api.deps import Flags, context
from sottovoce.api.multipart import read_upload
from sottovoce.api.openai.aliases import ALIASES
from sottovoce.engines.base import Transcript
from sottovoce.errors import InvalidRequest
from sottovoce.privacy.eligibility import Product
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.services.context import RequestContext
from sottovoce.services.stt_files import FileAsk, transcribe_file

router = APIRouter(tags=["OpenAI: transcriptions"])

FORMATS = ("json", "text", "srt", "vtt", "verbose_json")
GRANULARITIES = ("word", "segment")
FORM = form_body(
    {
        "file": AUDIO_FILE,
        "model": {"type": "string"},
        "language": LANGUAGE,
        "prompt": {"type": "string"},
        "response_format": choice(FORMATS),
        "temperature": number(0.0, 1.0),
        "timestamp_granularities[]": {"type": "array", "items": choice(GRANULARITIES)},
        "stream": {"type": "boolean", "const": False},
    },
    required=["file"],
    rules=[
        {
            "if": {
                "required": ["timestamp_granularities[]"],
                "properties": {"timestamp_granularities[]": {"minItems": 1}},
            },
            "then": {
                "required": ["response_format"],
                "properties": {"response_format": {"const": "verbose_json"}},
            },
        }
    ],
)

# verbose_json names the language in English, as Whisper does.
LANGUAGE_NAMES = {
    "en": "english", "de": "german", "es": "spanish", "fr": "french", "it": "italian",
    "pt": "portuguese", "nl": "dutch", "ja": "japanese", "zh": "chinese", "ru": "russian",
    "pl": "polish", "ko": "korean", "tr": "turkish", "sv": "swedish", "ar": "arabic",
    "hi": "hindi", "uk": "ukrainian", "cs": "czech", "da": "danish", "fi": "finnish",
}  # fmt: skip


def timestamp(seconds: float, separator: str) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def subtitles(transcript: Transcript, kind: str) -> str:
    separator = "," if kind == "srt" else "."
    blocks = ["WEBVTT\n"] if kind == "vtt" else []
    for i, segment in enumerate(transcript.segments, start=1):
        times = f"{timestamp(segment.start, separator)} --> {timestamp(segment.end, separator)}"
        number = f"{i}\n" if kind == "srt" else ""
        blocks.append(f"{number}{times}\n{segment.text.strip()}\n")
    return "\n".join(blocks)


def verbose(transcript: Transcript, duration: float, granularities: set[str]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "task": "transcribe",
        "language": LANGUAGE_NAMES.get(transcript.language, transcript.language),
        "duration": round(duration, 3),
        "text": transcript.text,
    }
    if "segment" in granularities or not granularities:
        body["segments"] = [
            {
                "id": i,
                "seek": 0,
                "start": s.start,
                "end": s.end,
                "text": s.text,
                "tokens": [],
                "temperature": s.temperature,
                "avg_logprob": round(s.avg_logprob, 4),
                "compression_ratio": round(s.compression_ratio, 4),
                "no_speech_prob": round(s.no_speech_prob, 4),
            }
            for i, s in enumerate(transcript.segments)
        ]
    if "word" in granularities:
        body["words"] = [
            {"word": w.text.strip(), "start": w.start, "end": w.end} for w in transcript.words
        ]
    body["usage"] = {"type": "duration", "seconds": round(duration)}
    return body


@router.post("/v1/audio/transcriptions", openapi_extra=FORM)
async def transcriptions(
    request: Request,
    ctx: Annotated[RequestContext, Depends(context(Product.STT))],
    flags: Flags,
) -> Response:
    form = await read_upload(request, ctx.settings)
    response_format = form.get("response_format") or "json"
    if response_format not in FORMATS:
        raise InvalidRequest(
            f"'response_format' must be one of {', '.join(FORMATS)}.", fields=["response_format"]
        )
    if form.flag("stream", False):
        raise InvalidRequest("Streaming transcription is not supported.", fields=["stream"])
    granularities = set(form.get_all("timestamp_granularities[]")) | set(
        form.get_all("timestamp_granularities")
    )
    if not granularities <= set(GRANULARITIES):
        raise InvalidRequest(
            "'timestamp_granularities[]' may hold word and segment.",
            fields=["timestamp_granularities[]"],
        )
    if granularities and response_format != "verbose_json":
        raise InvalidRequest(
            "'timestamp_granularities[]' needs response_format verbose_json.",
            fields=["timestamp_granularities[]"],
        )
    prompt = form.get("prompt")
    upload = form.require_file()
    ask = FileAsk(
        audio=upload.data,
        content_type=upload.content_type,
        model=ALIASES.stt_model(form.get("model")),
        flags=flags,
        language=form.get("language") or None,
        word_timestamps="word" in granularities,
        prompt=Sensitive(prompt) if prompt else None,
        temperature=form.number("temperature", 0.0, 1.0),
        settings={"response_format": response_format},
    )
    result = await transcribe_file(ctx, ask)
    transcript = result.transcript.reveal()
    usage = {"type": "duration", "seconds": round(result.duration)}
    if response_format == "text":
        return PlainTextResponse(transcript.text + "\n")
    if response_format in ("srt", "vtt"):
        media = "text/vtt" if response_format == "vtt" else "application/x-subrip"
        return PlainTextResponse(subtitles(transcript, response_format), media_type=media)
    if response_format == "verbose_json":
        return JSONResponse(verbose(transcript, result.duration, granularities))
    return JSONResponse({"text": transcript.text, "usage": usage})
