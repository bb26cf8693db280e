"""Live transcription through a provider's socket, the way every socket provider needs it.

A :class:`SocketStream` is the :class:`~sottovoce.engines.base.TranscriptionStream` of one
session sent upstream: it connects on :meth:`SocketStream.start` (or the first audio), sends
audio as it is fed, and reads the provider's messages in a task of its own. What the provider
says between two feeds waits in a queue and is handed out by the next feed, as the local
engine's background decodes are. A commit asks the provider to finalize and waits for it; the
end of input asks it to finish and waits for its last words. A socket that closes without being
asked to, a message that cannot be read, or a provider that says nothing for ``timeout_s`` ends
the session with the provider's typed error (the provider's own words are never repeated).

Each provider's module says how its socket is spoken to: how to open it, how audio, a commit
and the end look, and what its messages mean (:meth:`SocketStream.handle`).
"""

from __future__ import annotations

import asyncio
import contextlib
from abc import ABC, abstractmethod
from collections.abc import Callable

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosedError

from sottovoce.engines.base import (
    Segment,
    StreamEvent,
    StreamEventKind,
    StreamOptions,
    Transcript,
)
from sottovoce.engines.upstream_link import ProviderLink, pcm16, seconds
from sottovoce.errors import SottovoceError
from sottovoce.privacy.sensitive import Sensitive

COMMIT_GRACE_S = 5.0
"""How long a commit waits for a provider that may not answer a commit with nothing to say."""


class SocketStream(ABC):
    commit_always_answered = False
    """The provider answers every commit (else, after a grace period, nothing was pending)."""

    def __init__(self, link: ProviderLink, options: StreamOptions) -> None:
        self.link = link
        self.options = options
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._events: list[StreamEvent] = []
        self._fed = 0.0
        self._failure: SottovoceError | None = None
        self._commits = 0
        self._changed = asyncio.Event()
        self._done = False
        self._ending = False

    @property
    def audio_seconds(self) -> float:
        return self._fed

    @property
    def speech_probability(self) -> float:
        """Always 0: a provider's stream carries no voice-activity score per window."""
        return 0.0

    # What each provider says -----------------------------------------------------------

    @abstractmethod
    async def open(self) -> ClientConnection:
        """Connect and configure the session."""

    def audio_message(self, pcm: bytes) -> str | bytes:
        """16 kHz 16-bit PCM as the provider takes it (default: a binary frame)."""
        return pcm

    @abstractmethod
    def commit_message(self) -> str:
        """Finalize what was said so far."""

    @abstractmethod
    def end_message(self) -> str | bytes:
        """No more audio: finish and send the last words."""

    def keep_alive_message(self) -> str | None:
        return None

    @abstractmethod
    def handle(self, message: str | bytes) -> None:
        """One provider message: calls :meth:`partial`, :meth:`final`, :meth:`committed`,
        :meth:`finished` or raises a typed error."""

    # Told by ``handle`` ----------------------------------------------------------------

    def partial(self, transcript: Transcript) -> None:
        if self.options.partial_interval > 0 and transcript.text:
            self._push(StreamEvent(StreamEventKind.PARTIAL, Sensitive(transcript)))

    def final(self, transcript: Transcript) -> None:
        if transcript.text:
            self._push(StreamEvent(StreamEventKind.COMMITTED, Sensitive(transcript)))

    def committed(self) -> None:
        """The provider has finished a commit asked for."""
        self._commits += 1
        self._changed.set()

    def finished(self) -> None:
        """The provider has sent its last words."""
        self._done = True
        self._changed.set()

    def _push(self, event: StreamEvent) -> None:
        self._events.append(event)
        self._changed.set()

    # The stream ------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect now (the first feed does it otherwise); raises the provider's error."""
        if self._ws is None:
            self._ws = await self.open()
            self._reader = asyncio.create_task(self._read(self._ws))

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for message in ws:
                self.handle(message)
                if self._done:
                    return
        except SottovoceError as exc:
            self._failure = exc
        except ConnectionClosedError:
            # No close frame (or an error code): the provider or the network broke the stream,
            # whether or not its end had been asked for.
            self._failure = self.link.dropped()
        except Exception:  # a message that cannot be read: the provider's words stay unsaid
            self._failure = self.link.malformed()
        finally:
            if not self._done and self._failure is None and not self._ending:
                self._failure = self.link.dropped()
            self._done = True
            self._changed.set()

    def _check(self) -> None:
        if self._failure is not None:
            raise self._failure

    async def _send(self, message: str | bytes) -> None:
        assert self._ws is not None
        try:
            async with self.link.calling():
                await self._ws.send(message)
        except SottovoceError:
            # The reader knows why the socket went away better than the failed send does.
            await asyncio.sleep(0)
            self._check()
            raise

    def _drain(self, *, partials: bool = True) -> list[StreamEvent]:
        events = [e for e in self._events if partials or e.kind is StreamEventKind.COMMITTED]
        self._events.clear()
        return events

    async def feed(self, audio: Sensitive[bytes]) -> list[StreamEvent]:
        await self.start()
        self._check()
        data = audio.reveal()
        if data:
            await self._send(self.audio_message(pcm16(data)))
            self._fed += seconds(data)
        return self._drain()

    async def keep_alive(self) -> None:
        message = self.keep_alive_message()
        if message is not None and self._ws is not None and not self._done:
            await self._send(message)

    async def _wait(self, ready: Callable[[], bool], grace: float) -> bool:
        """Wait until ``ready()`` (or the end); whether it came before ``grace`` seconds."""
        deadline = asyncio.get_running_loop().time() + grace
        while not ready() and not self._done:
            self._changed.clear()
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)
        return True

    async def commit(self) -> StreamEvent:
        """Finalize now: every committed transcript since the last feed, as one."""
        await self.start()
        self._check()
        asked = self._commits
        await self._send(self.commit_message())
        grace = self.link.timeout_s if self.commit_always_answered else COMMIT_GRACE_S
        answered = await self._wait(lambda: self._commits > asked, grace)
        self._check()
        if not answered and self.commit_always_answered:
            raise self.link.timed_out()
        return StreamEvent(StreamEventKind.COMMITTED, Sensitive(merged(self._drain())))

    async def close(self) -> list[StreamEvent]:
        """End of input: the provider's last committed words (if it was ever opened); raises
        the provider's error if the stream broke before it was asked to end."""
        if self._ws is None:
            return []
        try:
            if not self._done and self._failure is None:
                self._ending = True
                with contextlib.suppress(SottovoceError):
                    await self._send(self.end_message())
                await self._wait(lambda: False, self.link.timeout_s)
            self._check()
            return self._drain(partials=False)
        finally:
            await self.abort()

    async def abort(self) -> None:
        """Hang up at once (the client went away)."""
        self._ending = True
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()


def merged(events: list[StreamEvent]) -> Transcript:
    """The committed transcripts among ``events`` as one (an empty one if there are none)."""
    heard = [e.transcript.reveal() for e in events if e.kind is StreamEventKind.COMMITTED]
    segments: tuple[Segment, ...] = tuple(s for t in heard for s in t.segments)
    return Transcript(
        segments=segments,
        language=heard[-1].language if heard else "en",
        language_probability=1.0,
        duration=max((t.duration for t in heard), default=0.0),
    )
