"""Stop sequences over streamed text: never emit a stop string, nor a piece of one."""

from __future__ import annotations


class StopScanner:
    """Holds back the end of the text while it could still be the start of a stop string."""

    def __init__(self, stops: tuple[str, ...]) -> None:
        self._stops = tuple(s for s in stops if s)
        self._pending = ""
        self.stopped = False

    def feed(self, text: str) -> tuple[str, bool]:
        """Text that is safe to emit now, and whether a stop string was reached."""
        if not self._stops:
            return text, False
        self._pending += text
        hits = [i for i in (self._pending.find(s) for s in self._stops) if i >= 0]
        if hits:
            self.stopped = True
            out, self._pending = self._pending[: min(hits)], ""
            return out, True
        keep = self._longest_partial()
        cut = len(self._pending) - keep
        out, self._pending = self._pending[:cut], self._pending[cut:]
        return out, False

    def flush(self, text: str = "") -> str:
        """The rest, once the stream has ended without reaching a stop string."""
        out, stopped = self.feed(text)
        if stopped:
            return out
        out, self._pending = out + self._pending, ""
        return out

    def _longest_partial(self) -> int:
        best = 0
        for stop in self._stops:
            for n in range(min(len(stop) - 1, len(self._pending)), best, -1):
                if self._pending.endswith(stop[:n]):
                    best = n
                    break
        return best
