"""What every file-transcription endpoint does, whatever its vendor's shape.

Read the upload in memory, resolve the model, take the retention decision before any content
is processed, decode (off the event loop), transcribe, meter audio seconds, and save to
history only when the decision allows. The vendor modules parse their own form fields and
render their own response; this module never sees a response format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import anyio
from fastapi import Request

from sottovoce.api.deps import RequestContext
from sottovoce.api.multipart import MemoryForm, UploadedFile, read_form
from sottovoce.audio.channels import separate_speakers
from sottovoce.audio.decode import SPLIT_CHANNELS_MAX, DecodedAudio, decode_audio
from sottovoce.audio.pcm import PcmEncoding
from sottovoce.engines.base import Mode, Transcriber, Transcript, TranscriptionRequest
from sottovoce.engines.channels import hear
from sottovoce.errors import InvalidRequest, UnknownModel
from sottovoce.privacy.eligibility import HistorySource
from sottovoce.privacy.policy import RequestFlags, RetentionDecision, Route
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.store.history import NewHistoryItem

DEFAULT_MODEL = "local/whisper-base"

# The vendors' model names, served by the local model: an SDK's default keeps working.
MODEL_ALIASES = {
    "whisper-base": DEFAULT_MODEL,
    "scribe_v1": DEFAULT_MODEL,
    "scribe_v1_experimental": DEFAULT_MODEL,
    "scribe_v2": DEFAULT_MODEL,
    "scribe_v2_realtime": DEFAULT_MODEL,
    "whisper-1": DEFAULT_MODEL,
    "gpt-4o-transcribe": DEFAULT_MODEL,
    "gpt-4o-mini-transcribe": DEFAULT_MODEL,
    "ink-whisper": DEFAULT_MODEL,
}


def resolve_transcriber(ctx: RequestContext, model: str | None) -> Transcriber:
    """The engine for a client's model name (404 ``model_not_found`` if there is none)."""
    name = (model or DEFAULT_MODEL).strip()
    engines = ctx.services.engines
    model_id = name if engines.knows(name) else MODEL_ALIASES.get(name)
    if model_id is None:
        raise UnknownModel()
    transcriber = engines.transcriber(model_id)
    ctx.usage.model_id = transcriber.info.model_id
    return transcriber


async def read_upload(request: Request, ctx: RequestContext) -> MemoryForm:
    settings = ctx.services.settings
    limit = min(settings.stt.max_upload_bytes, settings.limits.max_body_bytes)
    return await read_form(
        request.headers.get("content-type"), request.stream(), max_file_bytes=limit
    )


def require_file(form: MemoryForm, name: str = "file") -> UploadedFile:
    upload = form.file(name)
    if upload is None:
        raise InvalidRequest(f"The form has no '{name}' file.", fields=[name])
    return upload


def parse_bool(form: MemoryForm, name: str, default: bool) -> bool:
    value = form.get(name)
    if value is None or value in ("", "null"):
        return default
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0"):
        return False
    raise InvalidRequest(f"'{name}' must be true or false.", fields=[name])


def parse_float(form: MemoryForm, name: str, low: float, high: float) -> float | None:
    value = form.get(name)
    if value is None or value in ("", "null"):
        return None
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not low <= number <= high:
        raise InvalidRequest(f"'{name}' must be a number from {low:g} to {high:g}.", fields=[name])
    return number


class Channels(StrEnum):
    """How a multi-channel upload is heard."""

    AUTO = "auto"
    """Channel by channel when they carry different speakers (and the server allows it)."""
    SPLIT = "split"
    """Channel by channel, as the client asked (ElevenLabs ``use_multi_channel``)."""


@dataclass(frozen=True)
class FileJob:
    """One file transcription, as the vendor module parsed it."""

    upload: UploadedFile
    model: str | None
    language: str | None = None
    word_timestamps: bool = True
    prompt: Sensitive[str] | None = None
    temperature: float | None = None
    raw_sample_rate: int | None = None
    raw_encoding: PcmEncoding = PcmEncoding.S16LE
    channels: Channels = Channels.AUTO
    settings: dict[str, Any] = field(default_factory=dict)
    """Request settings worth keeping with a history item (no content)."""


@dataclass(frozen=True)
class FileResult:
    transcript: Sensitive[Transcript]
    """The whole upload's transcript (channels interleaved by time when they were split)."""
    duration: float
    decision: RetentionDecision
    history_item_id: str | None
    channels: tuple[Sensitive[Transcript], ...] = ()
    """Each channel's own transcript, when the channels were transcribed one by one."""


async def transcribe_file(ctx: RequestContext, flags: RequestFlags, job: FileJob) -> FileResult:
    transcriber = resolve_transcriber(ctx, job.model)
    decision = ctx.decide(flags, Route(transcriber.info.provider, Mode.SYNC))
    language = _check_language(transcriber, job.language)
    max_seconds = ctx.services.settings.stt.max_audio_seconds

    def decode() -> DecodedAudio:
        return decode_audio(
            job.upload.data,
            max_seconds=max_seconds,
            raw_sample_rate=job.raw_sample_rate,
            raw_encoding=job.raw_encoding,
        )

    audio = await anyio.to_thread.run_sync(decode)
    ctx.usage.add_input(round(audio.duration, 3), "audio_seconds")

    request = TranscriptionRequest(
        audio=audio.samples,
        language=language,
        word_timestamps=job.word_timestamps,
        prompt=job.prompt,
        temperature=job.temperature,
    )
    heard = await hear(transcriber, audio, request, split=await _split(ctx, job, audio))
    transcript = heard.transcript
    text = transcript.map(lambda t: t.text)
    ctx.usage.add_output(len(text.reveal()), "characters")
    item_id = None
    if decision.retain:
        keep_audio = ctx.workspace.keep_input_audio
        item_id = await ctx.save_history(
            decision,
            NewHistoryItem(
                workspace_id=ctx.workspace.id,
                request_id=ctx.request_id,
                source=HistorySource.STT,
                model_id=transcriber.info.model_id,
                text=text,
                audio=job.upload.data if keep_audio else None,
                content_type=(job.upload.content_type or "application/octet-stream")
                if keep_audio
                else None,
                settings={**job.settings, "language": transcript.reveal().language},
                details=transcript.map(words_detail),
            ),
        )
    return FileResult(transcript, audio.duration, decision, item_id, heard.channels)


async def _split(ctx: RequestContext, job: FileJob, audio: DecodedAudio) -> bool:
    """Whether to transcribe the upload channel by channel."""
    if job.channels is Channels.SPLIT:
        if audio.source_channels > SPLIT_CHANNELS_MAX:
            raise InvalidRequest(
                f"Channel by channel transcription takes at most {SPLIT_CHANNELS_MAX} channels.",
                fields=["use_multi_channel"],
            )
        return len(audio.channels) > 1
    if ctx.services.settings.stt.split_channels == "never" or len(audio.channels) < 2:
        return False
    arrays = audio.channel_arrays()
    return bool(await anyio.to_thread.run_sync(separate_speakers, arrays))


def _check_language(transcriber: Transcriber, language: str | None) -> str | None:
    check = getattr(transcriber, "check_language", None)
    return check(language) if callable(check) else language


def words_detail(transcript: Transcript) -> dict[str, Any]:
    return {
        "language": transcript.language,
        "duration": transcript.duration,
        "words": [[w.text, w.start, w.end] for w in transcript.words],
    }
