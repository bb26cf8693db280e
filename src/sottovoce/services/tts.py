"""Text-to-speech, once for every surface: check, decide, synthesize, encode, retain.

A surface turns its vendor's request into a :class:`SpeechAsk` and writes the events of
:meth:`Speech.speak` (a whole text) or :meth:`Speech.speak_stream` (text that arrives in pieces,
as an LLM writes it) in its vendor's shape; a socket's utterance drives :meth:`Speech.speak_live`
through :mod:`sottovoce.services.tts_live`. Everything that matters for privacy happens here
once: the retention decision before any synthesis, history only when the decision allows it
and only after the whole utterance was produced, and a usage record marked cancelled (with
nothing else kept) when the client goes away mid-stream.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sottovoce.audio.encode import Encoder, encode_all
from sottovoce.audio.formats import Codec, OutputFormat
from sottovoce.audio.shaping import UNSHAPED
from sottovoce.engines.base import AudioChunk, SynthesisRequest, Synthesizer
from sottovoce.engines.voices import DEFAULT_VOICE_ID, DEFAULT_VOICES, Voice
from sottovoce.errors import InvalidRequest, SottovoceError, UnknownModel
from sottovoce.privacy.eligibility import HistorySource
from sottovoce.privacy.logging import log_event
from sottovoce.privacy.policy import RequestFlags
from sottovoce.privacy.providers import Mode
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.services import routing, voices
from sottovoce.services.context import RequestContext
from sottovoce.services.events import Audio, CharTimes, Done, Event, Failed, Flushed
from sottovoce.services.routing import check_mode
from sottovoce.services.text_buffer import TextBuffer
from sottovoce.store.history import HistoryContent

log = logging.getLogger("sottovoce.tts")

DEFAULT_MODEL = "local/piper"
SHORT_NAMES = {"piper": DEFAULT_MODEL}
"""Our own short model names; vendors' model names are mapped by their surfaces."""


@dataclass(frozen=True)
class SpeechAsk:
    """One speech request, whatever vendor shape it came in."""

    output: OutputFormat
    voice_id: str | None
    model_id: str | None = None
    """A registry id or short name; ``None``: the default model."""
    speed: float = 1.0
    flags: RequestFlags = field(default_factory=RequestFlags)
    mode: Mode = Mode.SYNC
    settings: Mapping[str, Any] = field(default_factory=dict)
    """Request settings kept with a history item (numbers and enum values, no content)."""
    keep: bool = True
    """Keep the speech as a history item of its own when the decision allows it; ``False``
    for speech that is part of another product's record (a voice agent's replies)."""


@dataclass(frozen=True)
class FlushMark:
    """In a live utterance's text: everything before it has been flushed (``Flushed`` event)."""

    flush_id: int


def resolve_synthesizer(
    ctx: RequestContext, requested: str | None, voice: Voice | None = None
) -> Synthesizer:
    """The engine for a model id: ours or a short name (404 ``model_not_found`` else). Without
    one, the voice's own engine; a model that does not speak the voice is refused."""
    name = (requested or "").strip() or (voice.model_id if voice else "") or DEFAULT_MODEL
    name = SHORT_NAMES.get(name, name)
    if not ctx.engines.knows(name):
        raise UnknownModel(fields=("model_id",))
    if voice is not None and name != voice.model_id:
        raise InvalidRequest(
            f"This voice is spoken by the model {voice.model_id}.", fields=("model_id",)
        )
    return ctx.engines.synthesizer(name)


class Speech:
    """One TTS request (or one utterance of a TTS socket): validated and decided on creation.

    A socket's utterance whose context inherited the socket's decision is not decided again."""

    def __init__(self, ctx: RequestContext, ask: SpeechAsk) -> None:
        self.ctx = ctx
        self.ask = ask
        chosen = _named_upstream(ctx, ask.model_id)
        if chosen is None:
            # A local model: the voice decides the engine (a workspace's own voice is fetched
            # when speech starts).
            local_voice: Voice | None = voices.choose(ask.voice_id)
            self.engine = resolve_synthesizer(ctx, ask.model_id, local_voice)
        else:
            local_voice, self.engine = None, chosen
        check_mode(self.engine.info, ask.mode, "model_id")
        low, high = self.engine.info.speed_range
        if not low <= ask.speed <= high:
            raise InvalidRequest(f"speed must be between {low:g} and {high:g}.", fields=("speed",))
        ctx.usage.model_id = self.engine.info.model_id
        self._fallbacks: list[Synthesizer] = []
        if ctx.decided:
            self.decision = ctx.decision
        else:
            chain = routing.candidates(ctx, self.engine, ask.mode, ctx.engines.synthesizer)
            self.decision, engines = routing.decide(ctx, ask.flags, chain, ask.mode)
            self.engine, self._fallbacks = engines[0], engines[1:]
        self._local_voice = local_voice
        self.voice: Voice = _voice(self.engine, ask.voice_id, local_voice)
        self._spoken: list[str] = []
        self._produced: list[bytes] = []
        self._voice_name: str | None = None
        self._shaping = UNSHAPED

    @property
    def output(self) -> OutputFormat:
        return self.ask.output

    def speak(self, text: Sensitive[str] | None) -> AsyncIterator[Event]:
        """The events for a whole text; an empty or too long text is refused here, before any
        synthesis (so the surface can still answer with a clean error)."""
        if text is not None:
            text = Sensitive(speakable(text.reveal()))
        if text is None or not text.reveal().strip():
            raise InvalidRequest("The text to speak is empty.", fields=("text",))
        limit = self.ctx.settings.tts.max_text_chars
        if text.size > limit:
            raise InvalidRequest(f"The text is longer than {limit} characters.", fields=("text",))
        self.ctx.usage.add_input(float(text.size), "characters")
        return self._events(_once(text.reveal()), metered=True)

    def speak_stream(self, pieces: AsyncIterator[Sensitive[str]]) -> AsyncIterator[Event]:
        """The events for text that arrives in pieces: each complete clause is spoken as soon
        as it is there, while later text is still arriving; the rest when the pieces end."""
        limit = self.ctx.settings.tts
        buffer = TextBuffer(max_chunk_chars=limit.max_chunk_chars, max_chars=limit.max_text_chars)
        return self._events(_clauses(pieces, buffer), metered=False)

    def speak_live(self, texts: AsyncIterator[str | FlushMark]) -> AsyncIterator[Event]:
        """The events for pieces a live utterance lets go (already cut, metered as spoken),
        with a ``Flushed`` event where the client's flushes were."""
        return self._events(texts, metered=False)

    async def _events(
        self, texts: AsyncIterator[str | FlushMark], *, metered: bool
    ) -> AsyncIterator[Event]:
        encoder: Encoder | None = None
        offset = 0.0
        finished = False
        started = time.perf_counter()
        try:
            spoken = await voices.ready(self.ctx, self.voice)
            if spoken.voice.model_id != self.voice.model_id:
                # A matched voice is spoken by the engine of the built-in voice it starts from.
                self.engine = self.ctx.engines.synthesizer(spoken.voice.model_id)
                self.ctx.usage.model_id = self.engine.info.model_id
            self.voice = spoken.voice
            self._shaping = spoken.shaping
            low, high = self.engine.info.speed_range
            speed = min(max(self.ask.speed * spoken.speed, low), high)
            self._voice_name = spoken.history_name
            async for text in texts:
                if isinstance(text, FlushMark):
                    yield Flushed(text.flush_id)
                    continue
                if not metered:
                    self.ctx.usage.add_input(float(len(text)), "characters")
                if self._keeping:
                    self._spoken.append(text)
                request = SynthesisRequest(
                    text=Sensitive(text),
                    voice_id=self.voice.engine_voice,
                    speed=speed,
                    style=spoken.style,
                    continuation=offset > 0.0,
                    mode=self.ask.mode,
                    zero_retention=self.decision.zero_retention,
                )
                async for chunk in self._synthesize(request, first=encoder is None):
                    pcm = chunk.pcm.reveal()
                    if encoder is None:
                        encoder = Encoder(self.output, chunk.sample_rate)
                    if offset == 0.0 and pcm:
                        ttfb_ms = int((time.perf_counter() - started) * 1000)
                        log_event(log, "tts.first_chunk", ttfb_ms=ttfb_ms)
                    alignment = _shifted(chunk.alignment, offset)
                    start = offset
                    offset += len(pcm) / 2 / chunk.sample_rate
                    yield self._audio(encoder.feed(pcm), alignment, start)
            encoder = encoder or Encoder(self.output, self.engine.sample_rate)
            tail = encoder.finish()
            if self._keeping and self._spoken:
                await self._retain(tail)
            finished = True
            yield self._audio(tail, None, offset)
            yield Done()
        except SottovoceError as exc:
            self.ctx.usage.record_error(exc.code, exc.status)
            yield Failed(exc)
        finally:
            # Audio sent is metered however the stream ends (a cancelled utterance too).
            self.ctx.usage.add_output(round(offset, 3), "audio_seconds")
            if not finished and encoder is not None:
                encoder.close()
                if self.ctx.usage.error_code is None:
                    self.ctx.usage.cancelled = True
            self._produced.clear()
            self._spoken.clear()

    @property
    def _keeping(self) -> bool:
        return self.ctx.retaining and self.ask.keep

    async def _synthesize(
        self, request: SynthesisRequest, *, first: bool
    ) -> AsyncIterator[AudioChunk]:
        """The engine's audio; before the first audio of the request, an upstream failure moves
        the request on to its next fallback (after that, the failure ends the stream)."""
        while True:
            produced = False
            try:
                async for chunk in voices.shaped(self.engine.synthesize(request), self._shaping):
                    produced = True
                    yield chunk
                return
            except routing.UPSTREAM_ERRORS:
                if produced or not first or not self._fallbacks:
                    raise
                failed, self.engine = self.engine, self._fallbacks.pop(0)
                routing.move_on(self.ctx, failed, self.engine, self.ask.mode)
                self.voice = _voice(self.engine, self.ask.voice_id, self._local_voice)
                # A workspace voice's style pack is for the engine that failed: never passed on.
                request = replace(request, voice_id=self.voice.engine_voice, style=None)
                self._shaping = UNSHAPED

    def _audio(self, data: bytes, alignment: CharTimes | None, start: float) -> Audio:
        if self._keeping:
            self._produced.append(data)
        return Audio(Sensitive(data), Sensitive(alignment) if alignment else None, round(start, 4))

    async def _retain(self, tail: bytes) -> None:
        audio = b"".join([*self._produced, tail])
        if self.output.codec is Codec.WAV:
            audio = whole_wav(self.output, audio)
        await self.ctx.retain(
            HistoryContent(
                source=HistorySource.TTS,
                model_id=self.engine.info.model_id,
                voice_id=self.voice.voice_id,
                voice_name=self._voice_name,
                text=Sensitive("".join(self._spoken)),
                audio=Sensitive(audio),
                content_type=self.output.media_type,
                output_format=self.output.name or self.output.codec.value,
                settings={"speed": self.ask.speed, **self.ask.settings},
            )
        )


def _named_upstream(ctx: RequestContext, requested: str | None) -> Synthesizer | None:
    """The upstream provider's engine a request names, if it names one."""
    name = (requested or "").strip()
    name = SHORT_NAMES.get(name, name)
    if not name or not ctx.engines.knows(name):
        return None
    engine = ctx.engines.synthesizer(name)
    return None if engine.info.provider.local else engine


def _voice(engine: Synthesizer, voice_id: str | None, local_voice: Voice | None) -> Voice:
    """The voice the engine speaks: an upstream provider's voice as asked (its provider knows
    its voices; the local default voice becomes the provider's default); a local engine's the
    voice that chose it, or for a local fallback its own first voice."""
    if not engine.info.provider.local:
        wanted = (voice_id or "").strip() or DEFAULT_VOICE_ID
        return Voice(
            voice_id=wanted, name=wanted, model_id=engine.info.model_id, engine_voice=wanted
        )
    if local_voice is not None and local_voice.model_id == engine.info.model_id:
        return local_voice
    return next(v for v in DEFAULT_VOICES.voices if v.model_id == engine.info.model_id)


def whole_wav(fmt: OutputFormat, streamed: bytes) -> bytes:
    """A streamed WAV (length unknown in its header) rewritten with its exact length."""
    return encode_all(fmt, fmt.sample_rate, [streamed[44:]])


async def collect(events: AsyncIterator[Event], fmt: OutputFormat) -> tuple[bytes, CharTimes]:
    """The whole audio (a WAV with its exact length) and the whole alignment, raising the
    error of a failure: for the endpoints that answer in one reply."""
    parts: list[bytes] = []
    alignment: list[tuple[str, float, float]] = []
    async for event in events:
        if isinstance(event, Failed):
            raise event.error
        if isinstance(event, Audio):
            parts.append(event.data.reveal())
            if event.alignment is not None:
                alignment.extend(event.alignment.reveal())
    body = b"".join(parts)
    if fmt.codec is Codec.WAV:
        body = whole_wav(fmt, body)
    return body, tuple(alignment)


def _shifted(alignment: Sensitive[CharTimes] | None, offset: float) -> CharTimes:
    """An engine chunk's alignment (chunk-local seconds) moved to the stream's time."""
    return tuple(
        (ch, round(s + offset, 4), round(e + offset, 4))
        for ch, s, e in (alignment.reveal() if alignment else ())
    )


_UNSPEAKABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def speakable(text: str) -> str:
    """The text with control characters (NUL, escapes, C1) made spaces: they say nothing, and
    a NUL made the engines fail (a 500, found by schema fuzzing)."""
    return _UNSPEAKABLE.sub(" ", text)


async def _once(text: str) -> AsyncIterator[str]:
    yield text


async def _clauses(pieces: AsyncIterator[Sensitive[str]], buffer: TextBuffer) -> AsyncIterator[str]:
    """Complete clauses of the text as it arrives; what is left when the pieces end."""
    async for piece in pieces:
        ready = buffer.push(speakable(piece.reveal()))
        if ready is not None:
            yield ready
    rest = buffer.flush()
    if rest is not None:
        yield rest
