"""File transcription, once for every surface: decide, decode, transcribe, meter, retain.

The retention decision is taken before any content is processed; the upload is decoded in
memory (off the event loop), transcribed as one mix or channel by channel, metered in audio
seconds, and saved to history only when the decision allows. A surface parses its own form
fields into a :class:`FileAsk` and renders the :class:`FileResult` in its own shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

import anyio

from sottovoce.audio.channels import separate_speakers
from sottovoce.audio.decode import SPLIT_CHANNELS_MAX, DecodedAudio, decode_audio
from sottovoce.audio.pcm import PcmEncoding
from sottovoce.engines.base import Transcriber, Transcript, TranscriptionRequest
from sottovoce.engines.channels import Heard, hear
from sottovoce.errors import InvalidRequest, UnknownModel
from sottovoce.privacy.eligibility import HistorySource
from sottovoce.privacy.policy import RequestFlags
from sottovoce.privacy.providers import Mode
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.services import routing
from sottovoce.services.context import RequestContext
from sottovoce.services.routing import check_mode
from sottovoce.store.history import HistoryContent

DEFAULT_MODEL = "local/whisper-base"
SHORT_NAMES = {"whisper-base": DEFAULT_MODEL}
"""Our own short model names; vendors' model names are mapped by their surfaces."""


def resolve_transcriber(ctx: RequestContext, model: str | None) -> Transcriber:
    """The engine for a model id or short name (404 ``model_not_found`` if there is none)."""
    name = (model or "").strip() or DEFAULT_MODEL
    name = SHORT_NAMES.get(name, name)
    if not ctx.engines.knows(name):
        raise UnknownModel()
    transcriber = ctx.engines.transcriber(name)
    ctx.usage.model_id = transcriber.info.model_id
    return transcriber


class Channels(StrEnum):
    """How a multi-channel upload is heard."""

    AUTO = "auto"
    """Channel by channel when they carry different speakers (and the server allows it)."""
    SPLIT = "split"
    """Channel by channel, as the client asked (one transcript per channel)."""


@dataclass(frozen=True)
class FileAsk:
    """One file transcription, as a surface parsed it."""

    audio: Sensitive[bytes]
    """The upload as sent (a container, or raw PCM with ``raw_sample_rate``)."""
    content_type: str | None
    model: str | None
    flags: RequestFlags = field(default_factory=RequestFlags)
    language: str | None = None
    word_timestamps: bool = True
    prompt: Sensitive[str] | None = None
    temperature: float | None = None
    raw_sample_rate: int | None = None
    raw_encoding: PcmEncoding = PcmEncoding.S16LE
    channels: Channels = Channels.AUTO
    channels_field: str = "channels"
    """The surface's name for the channel option, named in its error."""
    settings: dict[str, Any] = field(default_factory=dict)
    """Request settings worth keeping with a history item (no content)."""


@dataclass(frozen=True)
class FileResult:
    transcript: Sensitive[Transcript]
    """The whole upload's transcript (channels interleaved by time when they were split)."""
    duration: float
    history_item_id: str | None
    channels: tuple[Sensitive[Transcript], ...] = ()
    """Each channel's own transcript, when the channels were transcribed one by one."""


async def transcribe_file(ctx: RequestContext, ask: FileAsk) -> FileResult:
    first = resolve_transcriber(ctx, ask.model)
    check_mode(first.info, Mode.SYNC)
    chain = routing.candidates(ctx, first, Mode.SYNC, ctx.engines.transcriber)
    decision, engines = routing.decide(ctx, ask.flags, chain, Mode.SYNC)
    language = engines[0].check_language(ask.language)
    max_seconds = ctx.settings.stt.max_audio_seconds

    def decode() -> DecodedAudio:
        return decode_audio(
            ask.audio,
            max_seconds=max_seconds,
            raw_sample_rate=ask.raw_sample_rate,
            raw_encoding=ask.raw_encoding,
        )

    audio = await anyio.to_thread.run_sync(decode)
    ctx.usage.add_input(round(audio.duration, 3), "audio_seconds")
    request = TranscriptionRequest(
        audio=audio.samples,
        language=language,
        word_timestamps=ask.word_timestamps,
        prompt=ask.prompt,
        temperature=ask.temperature,
        zero_retention=decision.zero_retention,
    )
    split = await _split(ctx, ask, audio)

    async def call(engine: Transcriber) -> Heard:
        asked = request
        if engine is not engines[0]:
            asked = replace(request, language=engine.check_language(ask.language))
        return await hear(engine, audio, asked, split=split)

    transcriber, heard = await routing.first_answer(ctx, engines, Mode.SYNC, call)
    text = heard.transcript.map(lambda t: t.text)
    ctx.usage.add_output(len(text.reveal()), "characters")
    item_id = None
    if ctx.decision.retain:
        keep_audio = ctx.keeps_input_audio
        item_id = await ctx.retain(
            HistoryContent(
                source=HistorySource.STT,
                model_id=transcriber.info.model_id,
                text=text,
                audio=ask.audio if keep_audio else None,
                content_type=(ask.content_type or "application/octet-stream")
                if keep_audio
                else None,
                settings={**ask.settings, "language": heard.transcript.reveal().language},
                details=heard.transcript.map(words_detail),
            )
        )
    return FileResult(heard.transcript, audio.duration, item_id, heard.channels)


async def _split(ctx: RequestContext, ask: FileAsk, audio: DecodedAudio) -> bool:
    """Whether to transcribe the upload channel by channel."""
    if ask.channels is Channels.SPLIT:
        if audio.source_channels > SPLIT_CHANNELS_MAX:
            raise InvalidRequest(
                f"Channel by channel transcription takes at most {SPLIT_CHANNELS_MAX} channels.",
                fields=[ask.channels_field],
            )
        return len(audio.channels) > 1
    if ctx.settings.stt.split_channels == "never" or len(audio.channels) < 2:
        return False
    arrays = audio.channel_arrays()
    return bool(await anyio.to_thread.run_sync(separate_speakers, arrays))


def words_detail(transcript: Transcript) -> dict[str, Any]:
    return {
        "language": transcript.language,
        "duration": transcript.duration,
        "words": [[w.text, w.start, w.end] for w in transcript.words],
    }
