"""Text-to-dialogue, once for every surface: several voices, one audio stream, turns in order.

Each turn (``inputs[i] = {text, voice_id}``) is spoken by its voice's own engine (Piper, hibari
or Kokoro, at 22.05 or 24 kHz), resampled to the requested format's rate, and followed by a
short pause (``voices.dialogue_gap_seconds``) before the next. Every check that can fail is
made before the first audio: the number of turns, empty or too long texts, unknown built-in
voices, and (when speech starts) workspace voices. Character timings run over the turns'
texts joined one after another (the shape ElevenLabs uses), with a voice segment per turn.
History source ``TTD``: the turns' texts (and voices) and the whole audio, when retained.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sottovoce.audio.encode import Encoder, PcmResampler
from sottovoce.audio.formats import Codec, OutputFormat
from sottovoce.engines.base import SynthesisRequest, Synthesizer
from sottovoce.engines.voices import Voice
from sottovoce.errors import InvalidRequest, SottovoceError
from sottovoce.privacy.eligibility import HistorySource
from sottovoce.privacy.policy import RequestFlags, Route
from sottovoce.privacy.providers import Mode
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.services import voices
from sottovoce.services.context import RequestContext
from sottovoce.services.events import Audio, CharTimes, Done, Event, Failed
from sottovoce.services.tts import resolve_synthesizer, whole_wav
from sottovoce.store.history import HistoryContent


@dataclass(frozen=True)
class Turn:
    text: Sensitive[str]
    voice_id: str | None


@dataclass(frozen=True)
class VoiceSegment:
    """Where one turn is in the audio and in the joined text."""

    voice_id: str
    start: float
    end: float
    char_start: int
    char_end: int
    turn: int


@dataclass(frozen=True)
class DialogueAsk:
    turns: tuple[Turn, ...]
    output: OutputFormat
    model_id: str | None = None
    flags: RequestFlags = field(default_factory=RequestFlags)
    mode: Mode = Mode.SYNC
    settings: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TurnAudio(Audio):
    """Audio of a dialogue, with the voice segment it completes (when one ends here)."""

    segment: VoiceSegment | None = None


class Dialogue:
    """One text-to-dialogue request: validated and decided on creation."""

    def __init__(self, ctx: RequestContext, ask: DialogueAsk) -> None:
        self.ctx = ctx
        self.ask = ask
        limits = ctx.settings
        if not ask.turns:
            raise InvalidRequest("A dialogue needs at least one input.", fields=("inputs",))
        if len(ask.turns) > limits.voices.dialogue_max_inputs:
            raise InvalidRequest(
                f"A dialogue takes at most {limits.voices.dialogue_max_inputs} inputs.",
                fields=("inputs",),
            )
        if any(not t.text.reveal().strip() for t in ask.turns):
            raise InvalidRequest("A dialogue input has no text.", fields=("inputs",))
        total = sum(t.text.size for t in ask.turns)
        if total > limits.tts.max_text_chars:
            raise InvalidRequest(
                f"The inputs are longer than {limits.tts.max_text_chars} characters together.",
                fields=("inputs",),
            )
        self.voices: list[Voice] = [voices.choose(t.voice_id) for t in ask.turns]
        self.engines: list[Synthesizer] = [
            resolve_synthesizer(ctx, ask.model_id, v) for v in self.voices
        ]
        first = self.engines[0]
        ctx.usage.model_id = first.info.model_id
        ctx.usage.add_input(float(total), "characters")
        self.decision = ctx.decide(ask.flags, Route(first.info.provider, ask.mode))

    @property
    def output(self) -> OutputFormat:
        return self.ask.output

    async def events(self) -> AsyncIterator[Event]:
        fmt = self.output
        encoder = Encoder(fmt, fmt.sample_rate)
        gap = np.zeros(int(self.ctx.settings.voices.dialogue_gap_seconds * fmt.sample_rate))
        gap_pcm = gap.astype("<i2").tobytes()
        produced: list[bytes] = []
        offset, chars = 0.0, 0
        finished = False
        try:
            spoken = [await voices.ready(self.ctx, v) for v in self.voices]
            for index, (turn, voice, engine, chosen) in enumerate(
                zip(self.ask.turns, spoken, self.engines, self.voices, strict=True)
            ):
                if voice.voice.model_id != chosen.model_id:
                    # A matched voice is spoken by the engine of the built-in voice it starts
                    # from.
                    engine = self.ctx.engines.synthesizer(voice.voice.model_id)
                if index:
                    data = encoder.feed(gap_pcm)
                    offset += len(gap) / fmt.sample_rate
                    produced.append(data)
                    yield Audio(Sensitive(data))
                text = turn.text.reveal()
                start = offset
                resampler = PcmResampler(engine.sample_rate, fmt.sample_rate)
                low, high = engine.info.speed_range
                request = SynthesisRequest(
                    text=turn.text,
                    voice_id=voice.voice.engine_voice,
                    speed=min(max(voice.speed, low), high),
                    style=voice.style,
                )
                async for chunk in voices.shaped(engine.synthesize(request), voice.shaping):
                    pcm = resampler.feed(np.frombuffer(chunk.pcm.reveal(), dtype=np.int16))
                    alignment = _shifted(chunk.alignment, offset)
                    offset += pcm.size / fmt.sample_rate
                    data = encoder.feed(pcm.tobytes())
                    produced.append(data)
                    yield Audio(Sensitive(data), Sensitive(alignment) if alignment else None)
                tail = resampler.flush()
                offset += tail.size / fmt.sample_rate
                data = encoder.feed(tail.tobytes())
                produced.append(data)
                segment = VoiceSegment(
                    voice.voice.voice_id, round(start, 4), round(offset, 4), chars,
                    chars + len(text), index,
                )  # fmt: skip
                chars += len(text)
                yield TurnAudio(Sensitive(data), segment=segment)
            tail_data = encoder.finish()
            produced.append(tail_data)
            self.ctx.usage.add_output(round(offset, 3), "audio_seconds")
            if self.decision.retain:
                await self._retain(produced, spoken)
            finished = True
            yield Audio(Sensitive(tail_data))
            yield Done()
        except SottovoceError as exc:
            self.ctx.usage.error_code = exc.code
            yield Failed(exc)
        finally:
            produced.clear()
            if not finished:
                encoder.close()
                if self.ctx.usage.error_code is None:
                    self.ctx.usage.cancelled = True

    async def _retain(self, produced: list[bytes], spoken: list[voices.SpokenVoice]) -> None:
        audio = b"".join(produced)
        if self.output.codec is Codec.WAV:
            audio = whole_wav(self.output, audio)
        turns = [
            {"text": t.text.reveal(), "voice_id": v.voice.voice_id, "voice_name": v.history_name}
            for t, v in zip(self.ask.turns, spoken, strict=True)
        ]
        await self.ctx.retain(
            HistoryContent(
                source=HistorySource.DIALOGUE,
                model_id=self.engines[0].info.model_id,
                voice_id=spoken[0].voice.voice_id,
                voice_name=spoken[0].history_name,
                text=Sensitive("\n".join(t.text.reveal() for t in self.ask.turns)),
                audio=Sensitive(audio),
                content_type=self.output.media_type,
                output_format=self.output.name or self.output.codec.value,
                settings=dict(self.ask.settings),
                details=Sensitive({"dialogue": turns}),
            )
        )


def _shifted(alignment: Sensitive[CharTimes] | None, offset: float) -> CharTimes:
    return tuple(
        (ch, round(s + offset, 4), round(e + offset, 4))
        for ch, s, e in (alignment.reveal() if alignment else ())
    )


async def collect(events: AsyncIterator[Event], fmt: OutputFormat) -> Collected:
    """The whole dialogue: audio (WAV with its exact length), timings and voice segments."""
    parts: list[bytes] = []
    chars: list[tuple[str, float, float]] = []
    segments: list[VoiceSegment] = []
    async for event in events:
        if isinstance(event, Failed):
            raise event.error
        if isinstance(event, Audio):
            parts.append(event.data.reveal())
            if event.alignment is not None:
                chars.extend(event.alignment.reveal())
            if isinstance(event, TurnAudio) and event.segment is not None:
                segments.append(event.segment)
    body = b"".join(parts)
    if fmt.codec is Codec.WAV:
        body = whole_wav(fmt, body)
    return Collected(body, tuple(chars), tuple(segments))


@dataclass(frozen=True)
class Collected:
    audio: bytes
    alignment: CharTimes
    segments: tuple[VoiceSegment, ...]
