"""A conversation's ears: the caller's audio (any PCM rate or G.711) as 16 kHz samples, into a
live transcription stream whose options follow the agent's settings.

Whisper tiny.en (when installed) hears English turns fast; another language is heard by the
multilingual base model. New listening settings mid-session (a new input format, turn
detection, end-of-turn silence, VAD threshold or partials) open a new stream; what the old one
held of an unfinished turn is dropped (not decoded: the cores are the live sessions'), and its
audio seconds are still counted.
"""

from __future__ import annotations

from sottovoce.audio.pcm import FloatArray, PcmStream
from sottovoce.engines.base import StreamEvent, StreamOptions, TranscriptionStream
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.services.admission import admit_live
from sottovoce.services.agent_spec import AgentSpec
from sottovoce.services.context import RequestContext

FAST_STT = "local/whisper-tiny.en"
STT = "local/whisper-base"


def _listening(spec: AgentSpec) -> tuple[object, ...]:
    """The settings a transcription stream is opened with."""
    return (
        spec.input_rate,
        spec.input_encoding,
        spec.turn_detection,
        spec.end_of_turn_silence_s,
        spec.vad_threshold,
        spec.partials,
    )


class Listening:
    """The caller's audio in, transcription events out."""

    def __init__(self, ctx: RequestContext, spec: AgentSpec) -> None:
        english = (spec.language or "en").lower().startswith("en")
        name = FAST_STT if english and ctx.engines.knows(FAST_STT) else STT
        self._transcriber = ctx.engines.transcriber(name)
        admit_live(ctx.ticket, self._transcriber)  # a conversation listens on our cores
        self._partial_interval = ctx.settings.stt.realtime_partial_interval
        self._earlier_seconds = 0.0
        self._spec = spec
        self._pcm, self._stream = self._open(spec)

    def _open(self, spec: AgentSpec) -> tuple[PcmStream, TranscriptionStream]:
        fast = self._transcriber.info.model_id == FAST_STT
        options = StreamOptions(
            language=None if fast else (spec.language or None),
            commit_on_silence=spec.turn_detection,
            silence_seconds=spec.end_of_turn_silence_s,
            vad_threshold=spec.vad_threshold,
            partial_interval=self._partial_interval if spec.partials else 0,
            vad_events=True,
            beam_size=1,
        )
        return PcmStream(spec.input_rate, spec.input_encoding), self._transcriber.open_stream(
            options
        )

    async def retune(self, spec: AgentSpec) -> None:
        """Follow new settings: a new stream only when what it listens with has changed."""
        if _listening(self._spec) != _listening(spec):
            await _drop(self._stream)
            self._earlier_seconds += self._stream.audio_seconds
            self._pcm, self._stream = self._open(spec)
        self._spec = spec

    def samples(self, data: Sensitive[bytes]) -> FloatArray:
        """The caller's audio as 16 kHz float samples."""
        return self._pcm.push(data.reveal())

    async def hear(self, samples: FloatArray) -> list[StreamEvent]:
        return await self._stream.feed(Sensitive(samples.astype("<f4").tobytes()))

    @property
    def speech_probability(self) -> float:
        return self._stream.speech_probability

    async def commit(self) -> StreamEvent:
        """End the caller's turn now: its final words (empty when nothing was said)."""
        return await self._stream.commit()

    @property
    def audio_seconds(self) -> float:
        """Seconds of the caller's audio heard, every stream together."""
        return self._earlier_seconds + self._stream.audio_seconds

    async def close(self) -> None:
        """The conversation is over: what the caller was still saying is dropped."""
        await _drop(self._stream)


async def _drop(stream: TranscriptionStream) -> None:
    abort = getattr(stream, "abort", None)
    await (abort() if abort is not None else stream.close())
