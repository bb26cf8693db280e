"""Speech-to-speech (a voice changer), once for every surface: the words of a recording, spoken
again in another voice, where they were said.

How: the recording is decoded in memory and transcribed with word timestamps (local Whisper);
its words are grouped into phrases at the pauses (``PAUSE`` or longer), each phrase's span
tightened to where the recording is loud (Whisper's word times often start early); each is spoken
by the target voice, its silence trimmed, time-stretched (WSOLA, pitch kept) into the span the
phrase took in the recording, and placed there. Kept: the words, when each phrase starts and
ends, and the pauses between phrases (to about 10 ms), hence the whole length. Not kept: the
speaker's emotion, emphasis and intonation, breaths, laughter and other non-speech sounds, the
rhythm of the words inside a phrase (the target voice's own, scaled to the phrase), background
noise (never carried over, so ``remove_background_noise`` is always in effect), and words
Whisper did not hear. A recording with no speech gives silence of its length.

The output streams phrase by phrase once the transcription is done. History source ``STS``:
the transcript and the output audio, when retained; the input recording is never kept.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio
import numpy as np
import numpy.typing as npt

from sottovoce.audio.decode import DecodedAudio, decode_audio
from sottovoce.audio.encode import Encoder
from sottovoce.audio.formats import Codec, OutputFormat
from sottovoce.audio.pcm import PcmEncoding
from sottovoce.audio.stretch import stretch
from sottovoce.engines.base import SynthesisRequest, Synthesizer, TranscriptionRequest, Word
from sottovoce.engines.voices import Voice
from sottovoce.errors import SottovoceError
from sottovoce.privacy.eligibility import HistorySource
from sottovoce.privacy.policy import RequestFlags, Route
from sottovoce.privacy.providers import Mode
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.services import voices
from sottovoce.services.context import RequestContext
from sottovoce.services.events import Audio, Done, Event, Failed
from sottovoce.services.stt_files import resolve_transcriber
from sottovoce.services.tts import resolve_synthesizer, whole_wav
from sottovoce.store.history import HistoryContent

PAUSE = 0.25
"""A gap between words at least this long starts a new phrase."""
MAX_PHRASE_WORDS = 14
_SQUEEZE = (0.6, 1.8)
"""Limits of the time-stretch factor; past them the phrase keeps more of its own length."""

Floats = npt.NDArray[np.float32]


@dataclass(frozen=True)
class StsAsk:
    audio: Sensitive[bytes]
    voice_id: str | None
    output: OutputFormat
    model_id: str | None = None
    flags: RequestFlags = field(default_factory=RequestFlags)
    mode: Mode = Mode.SYNC
    raw_sample_rate: int | None = None
    """Raw 16-bit PCM at this rate (ElevenLabs ``file_format=pcm_s16le_16``), else a container."""
    settings: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Phrase:
    text: str
    start: float
    end: float


def phrases(words: tuple[Word, ...]) -> list[Phrase]:
    """Words grouped into phrases at the pauses (and every ``MAX_PHRASE_WORDS`` words)."""
    out: list[list[Word]] = []
    for word in words:
        if not word.text.strip():
            continue
        if out and word.start - out[-1][-1].end < PAUSE and len(out[-1]) < MAX_PHRASE_WORDS:
            out[-1].append(word)
        else:
            out.append([word])
    return [
        Phrase(" ".join(w.text.strip() for w in group), group[0].start, group[-1].end)
        for group in out
    ]


def loudness(samples: Floats, rate: int, frame_s: float = 0.01) -> Floats:
    """dB relative to the loudest 10 ms frame, one value per frame."""
    frame = max(1, int(rate * frame_s))
    usable = samples[: samples.size // frame * frame].reshape(-1, frame).astype(np.float64)
    if usable.size == 0:
        return np.zeros(0, np.float32)
    rms = np.sqrt(np.mean(usable**2, axis=1)) + 1e-9
    db: Floats = (20 * np.log10(rms / rms.max())).astype(np.float32)
    return db


def snapped(phrase: Phrase, db: Floats, frame_s: float = 0.01, floor: float = -35.0) -> Phrase:
    """The phrase's span tightened to where the recording is loud: Whisper's word times often
    begin a little inside the silence before a word."""
    first, last = int(phrase.start / frame_s), int(phrase.end / frame_s) + 10
    loud = np.nonzero(db[first : last + 1] > floor)[0]
    if loud.size == 0:
        return phrase
    start = (first + int(loud[0])) * frame_s
    end = min((first + int(loud[-1]) + 1) * frame_s, phrase.end + 0.1)
    return Phrase(phrase.text, start, max(end, start + 0.05))


def _trimmed(audio: Floats) -> Floats:
    loud = np.nonzero(np.abs(audio) > 0.02 * max(float(np.max(np.abs(audio))), 1e-6))[0]
    return audio[loud[0] : loud[-1] + 1] if loud.size else audio[:0]


class VoiceChange:
    """One speech-to-speech request: validated and decided on creation."""

    def __init__(self, ctx: RequestContext, ask: StsAsk) -> None:
        self.ctx = ctx
        self.ask = ask
        self.voice: Voice = voices.choose(ask.voice_id)
        self.engine: Synthesizer = resolve_synthesizer(ctx, ask.model_id, self.voice)
        self.transcriber = resolve_transcriber(ctx, None)
        ctx.usage.model_id = self.engine.info.model_id
        self.decision = ctx.decide(ask.flags, Route(self.engine.info.provider, ask.mode))

    @property
    def output(self) -> OutputFormat:
        return self.ask.output

    async def _decode(self) -> DecodedAudio:
        limit = self.ctx.settings.voices.sts_max_audio_seconds

        def decode() -> DecodedAudio:
            return decode_audio(
                self.ask.audio,
                max_seconds=limit,
                raw_sample_rate=self.ask.raw_sample_rate,
                raw_encoding=PcmEncoding.S16LE,
            )

        return await anyio.to_thread.run_sync(decode)

    async def _speak(self, spoken: voices.SpokenVoice, text: str) -> Floats:
        low, high = self.engine.info.speed_range
        request = SynthesisRequest(
            text=Sensitive(text),
            voice_id=spoken.voice.engine_voice,
            speed=min(max(spoken.speed, low), high),
            style=spoken.style,
        )
        chunks = voices.shaped(self.engine.synthesize(request), spoken.shaping)
        pcm = b"".join([c.pcm.reveal() async for c in chunks])
        return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0

    async def events(self) -> AsyncIterator[Event]:
        encoder: Encoder | None = None
        produced: list[bytes] = []
        finished = False
        try:
            spoken = await voices.ready(self.ctx, self.voice)
            if spoken.voice.model_id != self.voice.model_id:
                # A matched voice is spoken by the engine of the built-in voice it starts from.
                self.engine = self.ctx.engines.synthesizer(spoken.voice.model_id)
                self.ctx.usage.model_id = self.engine.info.model_id
            rate = self.engine.sample_rate
            encoder = Encoder(self.output, rate)
            decoded = await self._decode()
            self.ctx.usage.add_input(round(decoded.duration, 3), "audio_seconds")
            transcript = (
                await self.transcriber.transcribe(
                    TranscriptionRequest(audio=decoded.samples, word_timestamps=True)
                )
            ).reveal()
            total = round(decoded.duration * rate)
            written = 0
            db = loudness(decoded.array(), decoded.sample_rate)
            for heard in phrases(transcript.words):
                phrase = snapped(heard, db)
                audio = _trimmed(await self._speak(spoken, phrase.text))
                start = max(round(phrase.start * rate), written)
                span = max(1, round((phrase.end - phrase.start) * rate))
                low, high = _SQUEEZE
                length = (
                    int(np.clip(span, audio.size / high, audio.size / low)) if audio.size else 0
                )
                piece = stretch(audio, length, rate)
                chunk = np.concatenate([np.zeros(start - written, np.float32), piece])
                written = start + piece.size
                data = encoder.feed(_pcm16(chunk))
                produced.append(data)
                yield Audio(Sensitive(data))
            tail = encoder.feed(_pcm16(np.zeros(max(0, total - written), np.float32)))
            tail += encoder.finish()
            produced.append(tail)
            self.ctx.usage.add_output(round(max(total, written) / rate, 3), "audio_seconds")
            if self.decision.retain:
                await self._retain(produced, spoken, transcript.text)
            finished = True
            yield Audio(Sensitive(tail))
            yield Done()
        except SottovoceError as exc:
            self.ctx.usage.error_code = exc.code
            yield Failed(exc)
        finally:
            produced.clear()
            if not finished:
                if encoder is not None:
                    encoder.close()
                if self.ctx.usage.error_code is None:
                    self.ctx.usage.cancelled = True

    async def _retain(self, produced: list[bytes], spoken: voices.SpokenVoice, text: str) -> None:
        audio = b"".join(produced)
        if self.output.codec is Codec.WAV:
            audio = whole_wav(self.output, audio)
        await self.ctx.retain(
            HistoryContent(
                source=HistorySource.SPEECH_TO_SPEECH,
                model_id=self.engine.info.model_id,
                voice_id=spoken.voice.voice_id,
                voice_name=spoken.history_name,
                text=Sensitive(text),
                audio=Sensitive(audio),
                content_type=self.output.media_type,
                output_format=self.output.name or self.output.codec.value,
                settings=dict(self.ask.settings),
            )
        )


def _pcm16(samples: Floats) -> bytes:
    return (np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()
