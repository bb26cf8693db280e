"""Live transcription: utterances cut by a streaming voice-activity detector.

Audio arrives in pieces of any size. The Silero VAD (shipped in faster-whisper) scores each
32 ms window as it completes; an utterance starts at the first speech window and ends after
``silence_seconds`` of non-speech, when it is decoded with the file-transcription settings and
committed. While the speaker talks, a greedy decode of the utterance so far is sent as a
partial every ``partial_interval`` seconds of new audio. Partials run in the background, one
at a time, and are skipped while one is still running: on a slow machine they come less
often, but they never hold back the audio, the VAD or the commit. Everything stays in memory;
the buffer holds one utterance plus a short lead-in, never the whole session.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Final

import anyio
import numpy as np

from sottovoce.engines.base import (
    StreamEvent,
    StreamEventKind,
    StreamOptions,
    Transcript,
)
from sottovoce.engines.whisper import DecodeOptions
from sottovoce.privacy.sensitive import Sensitive

if TYPE_CHECKING:
    from sottovoce.audio.pcm import FloatArray
    from sottovoce.engines.whisper import WhisperTranscriber

RATE: Final = 16_000
WINDOW: Final = 512
"""Samples per VAD window (32 ms at 16 kHz): the Silero model's native step."""
LEAD_IN: Final = int(0.3 * RATE)
"""Audio kept before the first speech window, so the first syllable is not clipped."""
MAX_UTTERANCE: Final = 28 * RATE
"""An utterance this long is committed even without a pause (Whisper reads 30 s at most)."""


def speech_probabilities(model: Any, context: FloatArray, windows: FloatArray) -> FloatArray:
    """Speech probability of each 512-sample window, ``context`` being the window before."""
    probs = model(np.concatenate([context, windows]))
    return np.asarray(probs, dtype=np.float32).reshape(-1)[1:]


class LiveTranscription:
    """A :class:`~sottovoce.engines.base.TranscriptionStream` over the Whisper engine."""

    def __init__(self, engine: WhisperTranscriber, options: StreamOptions) -> None:
        self.engine = engine
        self.options = options
        self._pending = np.zeros(0, dtype=np.float32)  # samples not yet scored by the VAD
        self._context = np.zeros(WINDOW, dtype=np.float32)
        self._buffer = np.zeros(0, dtype=np.float32)  # the current utterance (or lead-in)
        self._buffer_start = 0  # session sample index of _buffer[0]
        self._received = 0
        self._speech_samples = 0
        self._silence_run = 0
        self._in_utterance = False
        self._since_partial = 0
        self._utterance = 0  # counts commits, so a late partial of a closed utterance is dropped
        self._partial: asyncio.Task[tuple[int, StreamEvent]] | None = None
        self._vad_limiter = anyio.CapacityLimiter(1)
        neg = max(options.vad_threshold - 0.15, 0.01)
        self._neg_threshold = neg

    @property
    def audio_seconds(self) -> float:
        return self._received / RATE

    async def feed(self, audio: Sensitive[bytes]) -> list[StreamEvent]:
        samples = np.frombuffer(audio.reveal(), dtype="<f4")
        self._received += samples.size
        self._pending = np.concatenate([self._pending, samples])
        whole = self._pending.size - self._pending.size % WINDOW
        if whole == 0:
            return []
        windows, self._pending = self._pending[:whole], self._pending[whole:]
        # The VAD has its own worker: it keeps pace with the audio while Whisper is busy.
        probs = await anyio.to_thread.run_sync(
            speech_probabilities,
            self.engine.vad_model(),
            self._context,
            windows,
            limiter=self._vad_limiter,
        )
        self._context = windows[-WINDOW:]
        events: list[StreamEvent] = []
        for i, prob in enumerate(probs):
            window = windows[i * WINDOW : (i + 1) * WINDOW]
            event = await self._step(window, float(prob))
            if event is not None:
                events.append(event)
        events += self._finished_partial()
        if (
            self._in_utterance
            and self._partial is None
            and self._silence_run == 0  # not when a pause (and so a commit) may be starting
            and self.options.partial_interval > 0
            and self._since_partial >= self.options.partial_interval * RATE
        ):
            self._since_partial = 0
            self._partial = asyncio.create_task(self._run_partial(self._utterance))
        return events

    async def _run_partial(self, utterance: int) -> tuple[int, StreamEvent]:
        return utterance, await self._decode(StreamEventKind.PARTIAL)

    def _finished_partial(self) -> list[StreamEvent]:
        task = self._partial
        if task is None or not task.done():
            return []
        self._partial = None
        utterance, event = task.result()
        return [event] if utterance == self._utterance else []

    async def _settle_partial(self) -> None:
        """Let a running partial finish (it holds the engine) and drop it."""
        if self._partial is not None:
            await asyncio.wait({self._partial})
            self._partial.result()
            self._partial = None

    async def _step(self, window: FloatArray, prob: float) -> StreamEvent | None:
        self._buffer = np.concatenate([self._buffer, window])
        if prob >= self.options.vad_threshold:
            if not self._in_utterance:
                self._in_utterance = True
                self._speech_samples = 0
                self._since_partial = 0
            self._speech_samples += WINDOW
            self._silence_run = 0
        elif prob < self._neg_threshold or not self._in_utterance:
            self._silence_run += WINDOW
        if not self._in_utterance:
            self._trim_lead_in()
            return None
        self._since_partial += WINDOW
        silence_ends = (
            self.options.commit_on_silence
            and self._silence_run >= self.options.silence_seconds * RATE
        )
        if self._buffer.size >= MAX_UTTERANCE or silence_ends:
            if self._speech_samples >= self.options.min_speech_seconds * RATE:
                return await self._commit_utterance()
            self._reset(keep_lead_in=True)  # a click or a breath, not speech
        return None

    def _trim_lead_in(self) -> None:
        excess = self._buffer.size - LEAD_IN
        if excess > 0:
            self._buffer = self._buffer[excess:]
            self._buffer_start += excess

    def _reset(self, *, keep_lead_in: bool) -> None:
        self._in_utterance = False
        self._speech_samples = 0
        self._silence_run = 0
        self._since_partial = 0
        if keep_lead_in:
            self._trim_lead_in()
        else:
            self._buffer_start += self._buffer.size
            self._buffer = np.zeros(0, dtype=np.float32)

    async def _decode(self, kind: StreamEventKind) -> StreamEvent:
        final = kind is StreamEventKind.COMMITTED
        options = DecodeOptions(
            beam_size=self.engine.settings.beam_size if final else 1,
            vad_filter=False,  # already cut by our own VAD
            word_timestamps=final and self.options.word_timestamps,
            condition_on_previous_text=final,
        )
        transcript: Transcript
        samples = self._buffer.copy()  # taken now: the buffer grows while the decode runs
        if samples.size == 0:
            transcript = Transcript((), self.options.language or "", 0.0, 0.0)
        else:
            transcript = await self.engine.run(
                self.engine.transcribe_array,
                samples,
                language=self.options.language,
                options=options,
                offset=self._buffer_start / RATE,
            )
        return StreamEvent(kind=kind, transcript=Sensitive(transcript))

    async def _commit_utterance(self) -> StreamEvent:
        self._utterance += 1
        await self._settle_partial()
        event = await self._decode(StreamEventKind.COMMITTED)
        self._reset(keep_lead_in=False)
        return event

    async def commit(self) -> StreamEvent:
        # Samples short of a full VAD window still belong to this utterance.
        self._buffer = np.concatenate([self._buffer, self._pending])
        self._pending = np.zeros(0, dtype=np.float32)
        if not self._in_utterance:
            # Nothing was said: answer with an empty commitment rather than decode noise.
            self._reset(keep_lead_in=False)
            empty = Transcript((), self.options.language or "", 0.0, 0.0)
            return StreamEvent(StreamEventKind.COMMITTED, Sensitive(empty))
        return await self._commit_utterance()

    async def close(self) -> list[StreamEvent]:
        self._utterance += 1
        await self._settle_partial()
        if self._in_utterance and self._speech_samples >= self.options.min_speech_seconds * RATE:
            return [await self.commit()]
        return []
