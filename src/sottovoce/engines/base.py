"""What every engine and provider offers: one small protocol per capability.

An engine is addressed as ``provider/model`` (``local/piper``) and reports its provider's
retention declaration (:mod:`sottovoce.privacy.providers`) in its :class:`ModelInfo`, which the
retention policy reads before any content is sent. Content crosses these interfaces wrapped in
:class:`~sottovoce.privacy.sensitive.Sensitive`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Protocol, runtime_checkable

from sottovoce.privacy.providers import Mode, ProviderInfo
from sottovoce.privacy.sensitive import Sensitive


@dataclass(frozen=True)
class ModelInfo:
    """A model as listed by ``GET /v1/models``: metadata only."""

    model_id: str
    """``provider/model``"""
    capability: str
    """``tts``, ``stt`` or ``chat``"""
    provider: ProviderInfo
    display_name: str = ""
    languages: tuple[str, ...] = ("en",)
    """Languages it speaks or hears (ISO 639-1); empty: many, checked by the engine itself."""
    speed_range: tuple[float, float] = (1.0, 1.0)
    """Slowest and fastest speaking rate a speech synthesizer accepts (1.0: natural)."""
    modes: tuple[Mode, ...] = (Mode.SYNC, Mode.STREAMING)
    """How it can be called: one reply, a stream (a socket), or both."""


# Text-to-speech ------------------------------------------------------------------------


@dataclass(frozen=True)
class SynthesisRequest:
    text: Sensitive[str]
    voice_id: str
    """The engine's own name for the voice (Piper ``joe``, hibari ``heart``, a Kokoro pack)."""
    speed: float = 1.0
    language: str | None = None
    continuation: bool = False
    """The text goes on an utterance whose audio is already playing: the engine need not cut
    a short first piece for latency (fewer, longer pieces synthesize faster)."""
    style: Sensitive[bytes] | None = None
    """A voice made for a workspace (designed or matched): a Kokoro style pack, float32
    ``[510, 256]``. Derived from the workspace's own samples or description, so sensitive."""
    mode: Mode = Mode.SYNC
    """How the client asked (an upstream provider is called the same way)."""
    zero_retention: bool = False
    """The request is under zero retention: an upstream provider is sent its own switch."""


@dataclass(frozen=True)
class AudioChunk:
    """Mono signed 16-bit little-endian PCM at ``sample_rate``, with optional timing."""

    pcm: Sensitive[bytes]
    sample_rate: int
    # Characters of the input this chunk speaks and their start/end seconds within the
    # chunk, when the engine can tell (used for ``with-timestamps`` endpoints).
    alignment: Sensitive[tuple[tuple[str, float, float], ...]] | None = None


@runtime_checkable
class Synthesizer(Protocol):
    info: ModelInfo
    sample_rate: int

    def synthesize(self, request: SynthesisRequest) -> AsyncIterator[AudioChunk]:
        """Audio for the request, first chunk as early as possible."""
        ...


# Speech-to-text ------------------------------------------------------------------------


@dataclass(frozen=True)
class TranscriptionRequest:
    audio: Sensitive[bytes]
    """Mono float32 little-endian samples at 16 kHz."""
    language: str | None = None
    """ISO 639-1 code; ``None`` detects the language."""
    word_timestamps: bool = True
    prompt: Sensitive[str] | None = None
    """Text that conditions the decoder (spelling of names, style)."""
    temperature: float | None = None
    """A fixed sampling temperature; ``None`` uses the engine's fallback schedule."""
    zero_retention: bool = False
    """The request is under zero retention: an upstream provider is sent its own switch."""


@dataclass(frozen=True)
class Word:
    text: str
    start: float
    end: float
    probability: float | None = None
    channel: int | None = None
    """The upload's channel it was heard on, when channels were transcribed one by one."""


@dataclass(frozen=True)
class Segment:
    text: str
    start: float
    end: float
    words: tuple[Word, ...] = ()
    avg_logprob: float = 0.0
    compression_ratio: float = 0.0
    no_speech_prob: float = 0.0
    temperature: float = 0.0
    channel: int | None = None
    """The upload's channel it was heard on, when channels were transcribed one by one."""


@dataclass(frozen=True)
class Transcript:
    """A transcription result. The whole object is content: keep it inside ``Sensitive``."""

    segments: tuple[Segment, ...]
    language: str
    language_probability: float
    duration: float

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.segments).strip()

    @property
    def words(self) -> tuple[Word, ...]:
        return tuple(w for s in self.segments for w in s.words)

    def on_channel(self, channel: int) -> Transcript:
        """This transcript, every segment and word marked as heard on ``channel``."""
        segments = tuple(
            replace(s, channel=channel, words=tuple(replace(w, channel=channel) for w in s.words))
            for s in self.segments
        )
        return replace(self, segments=segments)

    @classmethod
    def interleave(cls, channels: Sequence[Transcript]) -> Transcript:
        """One transcript of several channels' own: segments in order of time, then channel.

        Each channel's transcript must already be marked with ``on_channel``. The language is
        the one detected on the channel with the most speech.
        """
        segments = sorted(
            (s for t in channels for s in t.segments), key=lambda s: (s.start, s.channel or 0)
        )
        main = max(channels, key=lambda t: sum(s.end - s.start for s in t.segments))
        return cls(
            segments=tuple(segments),
            language=main.language,
            language_probability=main.language_probability,
            duration=max(t.duration for t in channels),
        )


@dataclass(frozen=True)
class StreamOptions:
    """How a live transcription session cuts the audio into utterances."""

    language: str | None = None
    commit_on_silence: bool = True
    """Commit an utterance when the speaker pauses (VAD); otherwise only on request."""
    silence_seconds: float = 1.5
    """Pause length that ends an utterance."""
    vad_threshold: float = 0.5
    """Speech probability above which a 32 ms window counts as speech."""
    min_speech_seconds: float = 0.1
    """Shorter bursts of speech are not an utterance (clicks, breaths)."""
    partial_interval: float = 1.0
    """Seconds of new speech between two partial transcripts; 0 sends none."""
    word_timestamps: bool = False
    vad_events: bool = False
    """Also report where speech starts and stops (``SPEECH_STARTED``/``SPEECH_STOPPED``)."""
    beam_size: int | None = None
    """Beam width of a commit's decode; ``None``: the engine's file-transcription setting."""
    zero_retention: bool = False
    """The session is under zero retention: an upstream provider is sent its own switch."""


class StreamEventKind(StrEnum):
    PARTIAL = "partial"
    """A provisional transcript of the utterance so far; a later one replaces it."""
    COMMITTED = "committed"
    """The final transcript of one utterance."""
    SPEECH_STARTED = "speech_started"
    """The voice-activity detector heard speech begin (``at``); no transcript yet."""
    SPEECH_STOPPED = "speech_stopped"
    """The pause that ends an utterance ran out, or the burst was too short to be one."""


EMPTY_TRANSCRIPT = Transcript((), "", 0.0, 0.0)


@dataclass(frozen=True)
class StreamEvent:
    kind: StreamEventKind
    transcript: Sensitive[Transcript] = field(default_factory=lambda: Sensitive(EMPTY_TRANSCRIPT))
    """Times are seconds since the start of the session."""
    at: float = 0.0
    """For speech started or stopped: where, in seconds since the start of the session."""


class TranscriptionStream(Protocol):
    """One live session: audio in as it arrives, transcripts out as utterances complete."""

    @property
    def audio_seconds(self) -> float:
        """Audio received so far (metadata, for the usage record)."""
        ...

    @property
    def speech_probability(self) -> float:
        """The voice-activity detector's score of the latest 32 ms window (0 to 1)."""
        ...

    async def feed(self, audio: Sensitive[bytes]) -> list[StreamEvent]:
        """Append mono float32 16 kHz samples; returns the events they caused."""
        ...

    async def commit(self) -> StreamEvent:
        """Transcribe and close the current utterance now, speech or not."""
        ...

    async def close(self) -> list[StreamEvent]:
        """End of input: the last utterance's committed event, if speech was pending."""
        ...


@runtime_checkable
class Transcriber(Protocol):
    info: ModelInfo

    def load(self) -> None:
        """Load the weights (blocking, idempotent); called off the event loop."""
        ...

    def check_language(self, language: str | None) -> str | None:
        """The engine's code for a requested language, ``None`` to detect it; raises
        ``InvalidRequest`` (naming the field ``language``) for one it does not know."""
        ...

    async def transcribe(self, request: TranscriptionRequest) -> Sensitive[Transcript]: ...

    def open_stream(self, options: StreamOptions) -> TranscriptionStream: ...


@runtime_checkable
class Backlogged(Protocol):
    """An engine that runs on this replica's own worker pool and can tell whether it keeps up."""

    def backlog_s(self) -> float:
        """How far behind its work is: the longest a call has waited for a worker, or a live
        caller for a result (0: none waits)."""
        ...


# Chat ----------------------------------------------------------------------------------

CHAT_ROLES = frozenset({"system", "developer", "user", "assistant"})
"""Roles a chat message may have (``developer`` is OpenAI's newer name for ``system``)."""


@dataclass(frozen=True)
class ChatMessage:
    role: str
    content: Sensitive[str]


@dataclass(frozen=True)
class ChatRequest:
    messages: tuple[ChatMessage, ...]
    max_tokens: int | None = None
    """Most tokens to generate; ``None``: as many as the context window leaves."""
    temperature: float | None = None
    top_p: float | None = None
    stop: tuple[str, ...] = ()
    seed: int | None = None
    mode: Mode = Mode.SYNC
    """How the client asked for the reply; an upstream provider is called the same way."""
    extra: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class ChatDelta:
    """A piece of the completion. The last one carries ``finish_reason`` and token counts."""

    text: Sensitive[str]
    finish_reason: str | None = None
    """``stop`` (end of turn or a stop sequence) or ``length`` (``max_tokens`` reached)."""
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


@runtime_checkable
class ChatModel(Protocol):
    info: ModelInfo

    def load(self) -> None:
        """Get ready to serve (load weights): blocking, idempotent; run off the event loop."""
        ...

    def stream(self, request: ChatRequest) -> AsyncIterator[ChatDelta]:
        """Completion deltas; the last one carries ``finish_reason`` and token counts.

        Errors about the request itself (context overflow) and about reaching the provider
        are raised before the first delta, so a caller can still answer with a 4xx/5xx.
        """
        ...
