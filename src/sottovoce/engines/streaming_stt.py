"""Live transcription: utterances cut by a streaming voice-activity detector.

Audio arrives in pieces of any size. The Silero VAD (shipped in faster-whisper) scores each
32 ms window as it completes, its recurrent state carried from window to window; an utterance
starts at the first speech window and ends after ``silence_seconds`` of non-speech, when it is
decoded with the file-transcription settings and committed. While the speaker talks, a greedy
decode of the utterance so far is sent as a partial every ``partial_interval`` seconds of new
audio. Decodes run in the background, one at a time, and a partial is skipped while another
decode is still running: on a slow machine partials come less often, but they never hold back
the audio or the VAD.

The commit does not wait for the silence to run out before decoding. As soon as the speaker has
paused for ``SPECULATE_AFTER`` (or half the commit silence, if shorter) the utterance is
decoded with the commit settings in the background; if the pause lasts, that result is the
commit, ready when the silence ends or soon after, and if the speaker goes on it is sent as a
partial instead. Everything stays in memory; the buffer holds one utterance plus a short
lead-in, never the whole session.

What a commit decodes is a function of the audio alone: the utterance up to the end of its last
speech window plus that same short pause, whether it ends by a pause, a commit request or the
session's close, and whether the decode ran ahead of it or runs at it. How the audio was cut
into messages, and how fast the machine is, decide only when the result is ready, never which
samples it was made from (Whisper hears a different window as different words).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
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
VAD_CONTEXT: Final = 64
"""Samples of the window before that the Silero model sees in front of each window."""
LEAD_IN: Final = int(0.3 * RATE)
"""Audio kept before the first speech window, so the first syllable is not clipped."""
MAX_UTTERANCE: Final = 28 * RATE
"""An utterance this long is committed even without a pause (Whisper reads 30 s at most)."""
SPECULATE_AFTER: Final = int(0.2 * RATE)
"""A pause this long starts the commit's decode ahead of the commit."""


@dataclass
class _Decode:
    """A decode running in the background (or finished and kept for the commit)."""

    task: asyncio.Task[StreamEvent]
    utterance: int
    final: bool
    """Decoded with the commit settings, ahead of the commit."""
    end: int
    """Session sample index where its audio ends: the commit can use it only if its own window
    ends there too (speech since then moves the window)."""


@dataclass
class VadState:
    """What the Silero model carries from one window to the next: its recurrent state and the
    end of the previous window."""

    h: FloatArray = field(default_factory=lambda: np.zeros((1, 1, 128), dtype=np.float32))
    c: FloatArray = field(default_factory=lambda: np.zeros((1, 1, 128), dtype=np.float32))
    context: FloatArray = field(default_factory=lambda: np.zeros(VAD_CONTEXT, dtype=np.float32))


def speech_probabilities(model: Any, state: VadState, windows: FloatArray) -> FloatArray:
    """Speech probability of each 512-sample window, carrying ``state`` through (and updating it).

    The model is run window by window on faster-whisper's Silero session, its state carried
    across calls, so a window's probability depends on the audio so far and not on how it was
    cut into pieces (``SileroVADModel.__call__`` starts every call from a fresh state: the same
    window scored 0.17 or 0.5 depending on the chunk it came in)."""
    probs = np.empty(windows.size // WINDOW, dtype=np.float32)
    for i in range(probs.size):
        window = windows[i * WINDOW : (i + 1) * WINDOW]
        step = np.concatenate([state.context, window])[np.newaxis, :]
        out, state.h, state.c = model.session.run(None, {"input": step, "h": state.h, "c": state.c})
        probs[i] = np.asarray(out, dtype=np.float32).reshape(-1)[0]
        state.context = window[-VAD_CONTEXT:]
    return probs


class LiveTranscription:
    """A :class:`~sottovoce.engines.base.TranscriptionStream` over the Whisper engine."""

    def __init__(self, engine: WhisperTranscriber, options: StreamOptions) -> None:
        self.engine = engine
        self.options = options
        self._pending = np.zeros(0, dtype=np.float32)  # samples not yet scored by the VAD
        self._vad = VadState()
        self._buffer = np.zeros(0, dtype=np.float32)  # the current utterance (or lead-in)
        self._buffer_start = 0  # session sample index of _buffer[0]
        self._received = 0
        self._speech_samples = 0
        self._speech_end = 0  # _buffer index just past the utterance's last speech window
        self._silence_run = 0
        self._in_utterance = False
        self._since_partial = 0
        self._utterance = 0  # counts commits, so a late partial of a closed utterance is dropped
        self._decoding: _Decode | None = None
        self._vad_limiter = anyio.CapacityLimiter(1)
        self.speech_probability = 0.0
        neg = max(options.vad_threshold - 0.15, 0.01)
        self._neg_threshold = neg
        # The share of a pause that a commit decodes, and the pause that starts it early.
        self._pause = min(SPECULATE_AFTER, int(options.silence_seconds * RATE / 2))

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
            self._vad,
            windows,
            limiter=self._vad_limiter,
        )
        events: list[StreamEvent] = []
        for i, prob in enumerate(probs):
            window = windows[i * WINDOW : (i + 1) * WINDOW]
            self.speech_probability = float(prob)
            events += await self._step(window, float(prob))
        events += self._collect()
        if self._in_utterance and self._decoding is None:
            if self._should_speculate():
                self._start(final=True)
            elif (
                self._silence_run == 0  # not when a pause (and so a commit) may be starting
                and self.options.partial_interval > 0
                and self._since_partial >= self.options.partial_interval * RATE
            ):
                self._since_partial = 0
                self._start(final=False)
        return events

    def _should_speculate(self) -> bool:
        return (
            self.options.commit_on_silence
            and self._silence_run >= self._pause
            and self._speech_samples >= self.options.min_speech_seconds * RATE
        )

    def _commit_window(self) -> int:
        """How much of the buffer a commit decodes: up to the last speech and a short pause.

        Only speech windows move it, so it is the same whenever it is taken after the pause
        began (a speculative decode starts once the pause is at least that long)."""
        return min(self._buffer.size, self._speech_end + self._pause)

    def _is_current(self, running: _Decode) -> bool:
        """Whether a decode ahead of the commit holds exactly the audio the commit would."""
        return (
            running.final
            and running.utterance == self._utterance
            and running.end == self._buffer_start + self._commit_window()
        )

    def _start(self, *, final: bool) -> None:
        kind = StreamEventKind.COMMITTED if final else StreamEventKind.PARTIAL
        # The audio is taken now: the buffer grows while the decode waits and runs.
        size = self._commit_window() if final else self._buffer.size
        samples, offset = self._buffer[:size].copy(), self._buffer_start / RATE
        task = asyncio.create_task(self._decode(kind, samples, offset))
        self._decoding = _Decode(task, self._utterance, final, self._buffer_start + size)

    def _collect(self) -> list[StreamEvent]:
        """The finished background decode's event, if it is still news.

        A decode ahead of the commit that is still current is kept for the commit; one the
        speaker has since talked past is sent as a partial (when partials are wanted)."""
        running = self._decoding
        if running is None or not running.task.done():
            return []
        event = running.task.result()
        if running.utterance != self._utterance:
            self._decoding = None
            return []
        if self._is_current(running):
            return []
        self._decoding = None
        if running.final and self.options.partial_interval <= 0:
            return []
        return [StreamEvent(StreamEventKind.PARTIAL, event.transcript)]

    async def _settle(self) -> StreamEvent | None:
        """Wait for the background decode; its event if it can be the commit."""
        running, self._decoding = self._decoding, None
        if running is None:
            return None
        await asyncio.wait({running.task})
        event = running.task.result()
        return event if self._is_current(running) else None

    def _vad_event(self, kind: StreamEventKind, index: int) -> list[StreamEvent]:
        """A speech start or stop at ``_buffer[index]``, when the session asked for them."""
        if not self.options.vad_events:
            return []
        return [StreamEvent(kind, at=round((self._buffer_start + index) / RATE, 3))]

    async def _step(self, window: FloatArray, prob: float) -> list[StreamEvent]:
        self._buffer = np.concatenate([self._buffer, window])
        events: list[StreamEvent] = []
        if prob >= self.options.vad_threshold:
            if not self._in_utterance:
                self._in_utterance = True
                self._speech_samples = 0
                self._since_partial = 0
                events += self._vad_event(
                    StreamEventKind.SPEECH_STARTED, self._buffer.size - WINDOW
                )
            self._speech_samples += WINDOW
            self._speech_end = self._buffer.size
            self._silence_run = 0
        elif prob < self._neg_threshold or not self._in_utterance:
            self._silence_run += WINDOW
        if not self._in_utterance:
            self._trim_lead_in()
            return events
        self._since_partial += WINDOW
        silence_ends = (
            self.options.commit_on_silence
            and self._silence_run >= self.options.silence_seconds * RATE
        )
        if self._buffer.size >= MAX_UTTERANCE or silence_ends:
            events += self._vad_event(StreamEventKind.SPEECH_STOPPED, self._speech_end)
            if self._speech_samples >= self.options.min_speech_seconds * RATE:
                return [*events, await self._commit_utterance()]
            self._reset(keep_lead_in=True)  # a click or a breath, not speech
        return events

    def _trim_lead_in(self) -> None:
        excess = self._buffer.size - LEAD_IN
        if excess > 0:
            self._buffer = self._buffer[excess:]
            self._buffer_start += excess

    def _reset(self, *, keep_lead_in: bool) -> None:
        self._in_utterance = False
        self._speech_samples = 0
        self._speech_end = 0
        self._silence_run = 0
        self._since_partial = 0
        if keep_lead_in:
            self._trim_lead_in()
        else:
            self._buffer_start += self._buffer.size
            self._buffer = np.zeros(0, dtype=np.float32)

    async def _decode(
        self, kind: StreamEventKind, samples: FloatArray, offset: float
    ) -> StreamEvent:
        final = kind is StreamEventKind.COMMITTED
        beam = self.options.beam_size or self.engine.settings.beam_size
        options = DecodeOptions(
            beam_size=beam if final else 1,
            vad_filter=False,  # already cut by our own VAD
            word_timestamps=final and self.options.word_timestamps,
            condition_on_previous_text=final,
        )
        transcript: Transcript
        if samples.size == 0:
            transcript = Transcript((), self.options.language or "", 0.0, 0.0)
        else:
            transcript = await self.engine.run(
                self.engine.transcribe_array,
                samples,
                language=self.options.language,
                options=options,
                offset=offset,
            )
        return StreamEvent(kind=kind, transcript=Sensitive(transcript))

    async def _commit_utterance(self) -> StreamEvent:
        # The session's audio waits meanwhile: admission control sees how far behind it is.
        with self.engine.pool.holding_up():
            ahead = await self._settle()
            self._utterance += 1
            if ahead is not None:
                event = ahead
            else:
                # The same samples a decode ahead of the commit would have had.
                samples = self._buffer[: self._commit_window()].copy()
                event = await self._decode(
                    StreamEventKind.COMMITTED, samples, self._buffer_start / RATE
                )
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
        if self._in_utterance and self._speech_samples >= self.options.min_speech_seconds * RATE:
            return [await self.commit()]
        await self._settle()
        return []

    async def abort(self) -> None:
        """Nothing more will be read (the client went away, or hung up): what was pending is
        dropped, no decode is started and none is waited for. A decode still waiting for a
        worker leaves the queue; one already running finishes on its worker, unread."""
        running, self._decoding = self._decoding, None
        if running is not None:
            running.task.cancel()
        self._reset(keep_lead_in=False)
