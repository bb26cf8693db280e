"""Text that arrives in pieces, cut into what the engine should speak now.

A voice agent streams an LLM's tokens into a TTS socket. Speaking each token alone sounds
broken; waiting for the whole reply wastes the time the first clause could already be playing.
:class:`TextBuffer` holds the text and lets a piece go to the engine as soon as one of these
comes first:

- a complete clause or sentence (a boundary followed by whitespace, so it cannot grow);
- the schedule's character count (ElevenLabs' ``chunk_length_schedule``: characters buffered
  before the 1st, 2nd, ... generation; the last count repeats), cut after the last whole word;
- a ``flush`` (or the end of the text), which lets everything buffered go.

A caller may also let what is buffered go after a delay (Cartesia's ``max_buffer_delay_ms``):
that is time, so it is the session's to watch (:mod:`sottovoce.services.tts_live`).
"""

from __future__ import annotations

from collections.abc import Sequence

from sottovoce.engines.text_split import complete_prefix
from sottovoce.errors import InvalidRequest


def _whole_words(text: str) -> int:
    """The end of the last whole word of text still arriving (0: none yet)."""
    if text and text[-1].isspace():
        return len(text)
    cut = max(text.rfind(" "), text.rfind("\n"), text.rfind("\t"))
    return cut + 1 if cut > 0 else 0


class TextBuffer:
    """Pieces of text ready to speak, as more text arrives. Pure: no I/O, no clock."""

    def __init__(
        self,
        *,
        schedule: Sequence[int] = (),
        max_chunk_chars: int = 120,
        max_chars: int = 5000,
    ) -> None:
        self._schedule = tuple(schedule)
        self._max_chunk_chars = max_chunk_chars
        self._max_chars = max_chars
        self._text = ""
        self.generations = 0
        """Pieces let go so far (the schedule's position)."""

    @property
    def pending(self) -> bool:
        """Whether text that has not been let go is waiting (whitespace does not count)."""
        return bool(self._text.strip())

    @property
    def size(self) -> int:
        return len(self._text)

    def _threshold(self) -> int | None:
        if not self._schedule:
            return None
        return self._schedule[min(self.generations, len(self._schedule) - 1)]

    def push(self, text: str) -> str | None:
        """Add text; the piece that is ready to speak now, if any."""
        self._text += text
        if len(self._text) > self._max_chars:
            raise InvalidRequest(
                f"More than {self._max_chars} characters are waiting to be spoken.",
                fields=("text",),
            )
        ready = complete_prefix(self._text, max_chars=self._max_chunk_chars)
        threshold = self._threshold()
        if not ready and threshold is not None and len(self._text) >= threshold:
            ready = _whole_words(self._text)
        return self._take(ready)

    def flush(self) -> str | None:
        """Everything buffered, to speak now (``None`` when there is nothing to say)."""
        return self._take(len(self._text))

    def clear(self) -> None:
        self._text = ""

    def _take(self, end: int) -> str | None:
        piece = self._text[:end]
        if not end or not piece.strip():
            return None
        self._text = self._text[end:]
        self.generations += 1
        return piece
