"""The typed events every streaming product emits and every surface writes.

In the spirit of wyoming's ``AudioStart``/``AudioChunk``/``AudioStop``: a product (a TTS
request, a transcription session, a chat completion) is an async iterator of these events; a
vendor surface turns each one into its own bytes, SSE lines, NDJSON or socket messages. Content
stays wrapped in :class:`~sottovoce.privacy.sensitive.Sensitive` until the writer reveals it.

A failure after the stream has started is not an exception the surface must classify: it is a
:class:`Failed` event carrying the typed error (its stable ``code`` and ``status``), and each
surface writes it in its own way. Nothing here is classified by status code or message text.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from sottovoce.engines.base import Transcript
from sottovoce.errors import SottovoceError
from sottovoce.privacy.sensitive import Sensitive

CharTimes = tuple[tuple[str, float, float], ...]
"""Characters and their start and end times in seconds since the start of the stream."""


@dataclass(frozen=True)
class WordTimes:
    words: list[str]
    starts: list[float]
    ends: list[float]


def word_times(chars: CharTimes) -> WordTimes:
    """The words of timed characters (split at whitespace), each from its first character's
    start to its last character's end."""
    out = WordTimes([], [], [])
    current = ""
    for ch, start, end in chars:
        if ch.isspace():
            if current:
                out.words.append(current)
                current = ""
            continue
        if not current:
            out.starts.append(start)
            out.ends.append(end)
        current += ch
        out.ends[-1] = end
    if current:
        out.words.append(current)
    return out


@dataclass(frozen=True)
class Started:
    """A session has begun: the key was accepted and retention decided."""

    session_id: str


@dataclass(frozen=True)
class Audio:
    """Encoded audio in the requested output format (may be empty while a codec buffers)."""

    data: Sensitive[bytes]
    alignment: Sensitive[CharTimes] | None = None
    """The characters this audio speaks, when the engine can tell (``with-timestamps``)."""
    start: float = 0.0
    """Where this audio starts in the stream, in seconds (its alignment is in stream time)."""


@dataclass(frozen=True)
class Partial:
    """A provisional transcript of the utterance so far; a later one replaces it."""

    transcript: Sensitive[Transcript]


@dataclass(frozen=True)
class Committed:
    """The final transcript of one utterance (times in seconds since the session began)."""

    transcript: Sensitive[Transcript]


@dataclass(frozen=True)
class TextDelta:
    """A piece of generated text."""

    text: Sensitive[str]


@dataclass(frozen=True)
class Flushed:
    """Everything sent before a client's flush has been spoken (its audio came before this)."""

    flush_id: int
    """Which flush: 1 for the utterance's first, 2 for its second..."""


@dataclass(frozen=True)
class Done:
    """The stream ended as asked."""

    finish_reason: str = "stop"
    """``stop`` or ``length`` (a chat completion that reached ``max_tokens``)."""
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass(frozen=True)
class Failed:
    """The stream could not go on; ``error`` says why with a stable code."""

    error: SottovoceError

    @property
    def code(self) -> str:
        return self.error.code


Event = Started | Audio | Partial | Committed | TextDelta | Flushed | Done | Failed


async def first_or_raise(events: AsyncIterator[Event]) -> tuple[Event | None, AsyncIterator[Event]]:
    """The first event, raising its error if it is a failure, and the iterator for the rest.

    A surface calls this before it commits to a status line: a stream that fails before its
    first audio or text still becomes a clean error response in the caller's shape."""
    iterator = aiter(events)
    first = await anext(iterator, None)
    if isinstance(first, Failed):
        raise first.error
    return first, iterator


async def completed(events: AsyncIterator[Event]) -> list[Event]:
    """Every event of a stream, raising the error of a failure (for one-reply endpoints)."""
    out: list[Event] = []
    async for event in events:
        if isinstance(event, Failed):
            raise event.error
        out.append(event)
    return out
