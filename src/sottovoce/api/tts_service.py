"""The one TTS flow every compat surface shares: check, decide, synthesize, encode, retain.

A surface parses its vendor's request into :func:`prepare` arguments and writes the chunks of
:func:`run` in its vendor's shape. Everything that matters for privacy happens here once: the
retention decision before any synthesis, history only when the decision allows it and only
after the whole response was produced, and a usage record marked cancelled (with nothing
else kept) when the client goes away mid-stream.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from sottovoce.api.deps import RequestContext
from sottovoce.audio.encode import Encoder, encode_all
from sottovoce.audio.formats import Codec, OutputFormat
from sottovoce.engines.base import Mode, SynthesisRequest, Synthesizer
from sottovoce.engines.piper import MAX_SPEED, MIN_SPEED
from sottovoce.engines.voices import DEFAULT_VOICES, Voice
from sottovoce.errors import InvalidRequest, UnknownModel
from sottovoce.privacy.eligibility import HistorySource
from sottovoce.privacy.logging import log_event
from sottovoce.privacy.policy import RequestFlags, RetentionDecision, Route
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.store.history import NewHistoryItem

log = logging.getLogger("sottovoce.tts")

DEFAULT_MODEL = "local/piper"
# The vendors' model names, so SDK examples work unchanged: all spoken by the local engine.
_VENDOR_MODEL_PREFIXES = ("eleven_", "tts-1", "gpt-4o-mini-tts", "gpt-4o-tts", "sonic")
_SHORT_NAMES = {"piper": DEFAULT_MODEL}


def resolve_model(requested: str | None, ctx: RequestContext) -> Synthesizer:
    """The engine for a model id the client sent: ours, a short name or a vendor's name."""
    name = (requested or "").strip()
    if not name or name.startswith(_VENDOR_MODEL_PREFIXES):
        name = DEFAULT_MODEL
    name = _SHORT_NAMES.get(name, name)
    if not ctx.services.engines.knows(name):
        raise UnknownModel(fields=("model_id",))
    return ctx.services.engines.synthesizer(name)


@dataclass(frozen=True)
class Piece:
    """What one step of synthesis produced, ready for a surface to write."""

    audio: bytes
    """Encoded bytes (may be empty while a codec buffers)."""
    alignment: tuple[tuple[str, float, float], ...]
    """Characters spoken in this step and their absolute start and end seconds."""
    final: bool = False


@dataclass
class TtsJob:
    ctx: RequestContext
    engine: Synthesizer
    voice: Voice
    text: Sensitive[str]
    speed: float
    format: OutputFormat
    decision: RetentionDecision
    settings: dict[str, Any] = field(default_factory=dict)


def prepare(
    ctx: RequestContext,
    *,
    text: Sensitive[str] | None,
    voice_id: str | None,
    model_id: str | None,
    speed: float,
    fmt: OutputFormat,
    flags: RequestFlags,
    mode: Mode,
    settings: dict[str, Any] | None = None,
) -> TtsJob:
    """Validate a request and take its retention decision (raises clear 4xx errors)."""
    if text is None or not text.reveal().strip():
        raise InvalidRequest("The text to speak is empty.", fields=("text",))
    limit = ctx.services.settings.tts.max_text_chars
    if text.size > limit:
        raise InvalidRequest(f"The text is longer than {limit} characters.", fields=("text",))
    if not MIN_SPEED <= speed <= MAX_SPEED:
        raise InvalidRequest(
            f"speed must be between {MIN_SPEED} and {MAX_SPEED}.", fields=("speed",)
        )
    engine = resolve_model(model_id, ctx)
    voice = DEFAULT_VOICES.resolve(voice_id)
    ctx.usage.model_id = engine.info.model_id
    decision = ctx.decide(flags, Route(engine.info.provider, mode))
    ctx.usage.add_input(float(text.size), "characters")
    return TtsJob(ctx, engine, voice, text, speed, fmt, decision, dict(settings or {}))


async def run(job: TtsJob) -> AsyncIterator[Piece]:
    """Synthesize and encode; saves history at the end if allowed; marks a cut-off stream."""
    encoder = Encoder(job.format, job.engine.sample_rate)
    request = SynthesisRequest(text=job.text, voice_id=job.voice.voice_id, speed=job.speed)
    produced: list[bytes] = []
    offset = 0.0
    finished = False
    started = time.perf_counter()
    first = True
    try:
        async for chunk in job.engine.synthesize(request):
            pcm = chunk.pcm.reveal()
            audio = encoder.feed(pcm)
            if first:
                first = False
                log_event(
                    log, "tts.first_chunk", ttfb_ms=int((time.perf_counter() - started) * 1000)
                )
            alignment = tuple(
                (ch, round(s + offset, 4), round(e + offset, 4))
                for ch, s, e in (chunk.alignment.reveal() if chunk.alignment else ())
            )
            offset += len(pcm) / 2 / chunk.sample_rate
            if job.decision.retain:
                produced.append(audio)
            yield Piece(audio, alignment)
        tail = encoder.finish()
        if job.decision.retain:
            produced.append(tail)
        job.ctx.usage.add_output(round(offset, 3), "audio_seconds")
        if job.decision.retain:
            await _save(job, produced)
        finished = True
        yield Piece(tail, (), final=True)
    finally:
        if not finished:
            encoder.close()
            job.ctx.usage.cancelled = True
        produced.clear()


async def collect(job: TtsJob) -> tuple[bytes, tuple[tuple[str, float, float], ...]]:
    """The whole audio (a WAV with its exact length) and the whole alignment."""
    parts: list[bytes] = []
    alignment: list[tuple[str, float, float]] = []
    async for piece in run(job):
        parts.append(piece.audio)
        alignment.extend(piece.alignment)
    body = b"".join(parts)
    if job.format.codec is Codec.WAV:
        body = encode_all(job.format, job.format.sample_rate, [body[44:]])
    return body, tuple(alignment)


async def _save(job: TtsJob, produced: list[bytes]) -> None:
    audio = b"".join(produced)
    if job.format.codec is Codec.WAV:
        audio = encode_all(job.format, job.format.sample_rate, [audio[44:]])
    settings = {"speed": job.speed, **job.settings}
    await job.ctx.save_history(
        job.decision,
        NewHistoryItem(
            workspace_id=job.ctx.workspace.id,
            request_id=job.ctx.request_id,
            source=HistorySource.TTS,
            model_id=job.engine.info.model_id,
            voice_id=job.voice.voice_id,
            voice_name=job.voice.name,
            text=job.text,
            audio=Sensitive(audio),
            content_type=job.format.media_type,
            output_format=job.format.name or job.format.codec.value,
            settings=settings,
        ),
    )


async def primed(pieces: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """Fetch the first item now (so errors before any audio become clean JSON errors),
    then stream the rest: ``StreamingResponse(await primed(...))``."""
    iterator = aiter(pieces)
    try:
        head = await anext(iterator)
    except StopAsyncIteration:
        head = b""

    async def stream() -> AsyncIterator[bytes]:
        yield head
        async for item in iterator:
            yield item

    return stream()
