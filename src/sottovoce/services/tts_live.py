"""Text-to-speech sockets, once for every vendor: one session per socket, utterances in it.

A :class:`TtsSession` is one socket's product. It holds up to ``max_contexts`` open
:class:`LiveUtterance` objects (ElevenLabs' and Cartesia's *contexts*, Deepgram's turn between
two flushes), each with a request context of its own (:meth:`RequestContext.child`): its own
usage record, written when it ends however it ends, and either the socket's retention decision
(inherited) or its own (where the vendor lets each context carry its own model, voice and
format). The surface only translates messages into calls here and events back into messages.

An utterance takes text as it arrives and lets it go to the engine through a
:class:`~sottovoce.services.text_buffer.TextBuffer`: a clause, or the schedule's count of
characters, whichever comes first; a flush or the end lets everything go; with a buffer delay,
what has waited that long goes too. Synthesis runs in the utterance's own task while later text
keeps arriving, so the first clause is spoken while the rest is still being written. Cancelling
an utterance stops it between two engine pieces (Piper synthesizes piece by piece): nothing more
is sent, and nothing of it is kept.

Without zero retention a whole utterance (every piece it spoke, and all of its audio) becomes
one history item when it ends normally; a cancelled or failed utterance keeps nothing. Under
zero retention only the usage records remain: characters and audio seconds, per utterance.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass

import anyio
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from sottovoce.errors import InvalidRequest, SottovoceError, TooManyContexts
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.services.context import RequestContext
from sottovoce.services.events import Done, Event, Failed
from sottovoce.services.text_buffer import TextBuffer
from sottovoce.services.tts import FlushMark, Speech, SpeechAsk

Emit = Callable[[str, Event], Awaitable[None]]
"""Where a session's events go: (context key, event), written by the surface."""
OnEnd = Callable[["LiveUtterance"], Awaitable[None]]
"""Told when an utterance is over, however it ended (its usage record is written by then)."""


@dataclass(frozen=True)
class BufferPolicy:
    """How an utterance holds text back before it lets it go to the engine."""

    schedule: tuple[int, ...] = ()
    """Characters before the 1st, 2nd... generation (the last count repeats); () for none."""
    max_delay_s: float | None = None
    """Let what is buffered go once it has waited this long (0: at once); ``None``: never."""


@dataclass(frozen=True)
class _Text:
    text: str
    flush: bool


@dataclass(frozen=True)
class _Flush:
    pass


@dataclass(frozen=True)
class _End:
    pass


_Command = _Text | _Flush | _End


class LiveUtterance:
    """One context of a socket: text in as it arrives, events out, one usage record."""

    def __init__(self, key: str, speech: Speech, policy: BufferPolicy) -> None:
        self.key = key
        self.speech = speech
        self.ctx = speech.ctx
        self.policy = policy
        settings = self.ctx.settings.tts
        self._limit = settings.max_text_chars
        self._buffer = TextBuffer(
            schedule=policy.schedule,
            max_chunk_chars=settings.max_chunk_chars,
            max_chars=settings.max_text_chars,
        )
        send, receive = anyio.create_memory_object_stream[_Command](math.inf)
        self._send: MemoryObjectSendStream[_Command] = send
        self._receive: MemoryObjectReceiveStream[_Command] = receive
        self._queued_chars = 0
        self._flushes = 0
        self._waiting = False
        self._scope: anyio.CancelScope | None = None
        self.ending = False
        """No more input will come (``end`` or ``close``): what is there is being finished."""
        self.finished = anyio.Event()
        """Set when the utterance is over, its usage record written."""
        self.completed = False
        """It ended as asked (its ``Done`` was sent), rather than cancelled or failed."""

    # Input, from the surface -----------------------------------------------------------------

    def push(self, text: Sensitive[str], *, flush: bool = False) -> None:
        """More text (raises ``InvalidRequest`` when too much is waiting to be spoken)."""
        if self.ending:
            raise InvalidRequest("This context has already ended.", fields=("context_id",))
        piece = text.reveal()
        if self._queued_chars + self._buffer.size + len(piece) > self._limit:
            raise InvalidRequest(
                f"More than {self._limit} characters are waiting to be spoken.", fields=("text",)
            )
        if not self._command(_Text(piece, flush)):
            raise InvalidRequest("This context has already ended.", fields=("context_id",))
        self._queued_chars += len(piece)

    def flush(self) -> None:
        """Speak everything buffered now; a ``Flushed`` event follows its audio."""
        if not self.ending:
            self._command(_Flush())

    def end(self) -> None:
        """No more text: speak what is buffered, then ``Done``."""
        if not self.ending:
            self.ending = True
            self._command(_End())

    def _command(self, command: _Command) -> bool:
        """Queue a command; False when the utterance is already over (it failed meanwhile)."""
        try:
            self._send.send_nowait(command)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            return False
        return True

    @property
    def idle(self) -> bool:
        """Everything sent has been spoken and nothing is being synthesized."""
        return self._waiting and self._queued_chars == 0 and not self._buffer.pending

    def close(self) -> None:
        """Stop here: an idle utterance ends as spoken (and is kept, without ZDR); one still
        speaking is cancelled (nothing of it is kept)."""
        if self.idle:
            self.end()
        else:
            self.cancel()

    def cancel(self) -> None:
        """Stop now, within one engine piece; nothing more is sent and nothing is kept.

        An utterance that already completed (its ``Done`` was sent) stays completed."""
        if self.completed or self.finished.is_set():
            return
        self.ending = True
        self.ctx.usage.cancelled = self.ctx.usage.error_code is None
        if self._scope is not None:
            self._scope.cancel()

    # The utterance's task -------------------------------------------------------------------

    async def run(self, emit: Emit) -> None:
        """Synthesize until the end, a failure or a cancel; then write the usage record."""
        try:
            with anyio.CancelScope() as scope:
                self._scope = scope
                if not self.ctx.usage.cancelled:
                    await self._speak(emit)
        finally:
            self._send.close()
            self._receive.close()
            with anyio.CancelScope(shield=True):
                await self.ctx.finish()
            self.finished.set()

    async def _speak(self, emit: Emit) -> None:
        events = self.speech.speak_live(self._texts())
        try:
            async for event in events:
                self.completed = isinstance(event, Done)
                await emit(self.key, event)
                if isinstance(event, Failed):
                    break
        finally:
            with anyio.CancelScope(shield=True):
                await events.aclose()  # type: ignore[attr-defined]

    async def _texts(self) -> AsyncIterator[str | FlushMark]:
        while True:
            command = await self._next()
            if command is None:  # the buffer delay ran out
                piece = self._buffer.flush()
                if piece is not None:
                    yield piece
                continue
            if isinstance(command, _Text):
                self._queued_chars -= len(command.text)
                piece = self._buffer.push(command.text)
                if self.policy.max_delay_s == 0 or command.flush:
                    piece = (piece or "") + (self._buffer.flush() or "") or None
                if piece is not None:
                    yield piece
                if command.flush:
                    self._flushes += 1
                    yield FlushMark(self._flushes)
            elif isinstance(command, _Flush):
                piece = self._buffer.flush()
                if piece is not None:
                    yield piece
                self._flushes += 1
                yield FlushMark(self._flushes)
            else:
                piece = self._buffer.flush()
                if piece is not None:
                    yield piece
                return

    async def _next(self) -> _Command | None:
        """The next command; ``None`` when the buffer delay ran out first."""
        delay = self.policy.max_delay_s
        self._waiting = True
        try:
            if delay is not None and self._buffer.pending:
                with anyio.move_on_after(delay):
                    return await self._receive.receive()
                return None
            return await self._receive.receive()
        except anyio.EndOfStream:
            return _End()
        finally:
            self._waiting = False


class TtsSession:
    """One TTS socket: its request context (the socket's usage record) and its utterances."""

    def __init__(
        self,
        ctx: RequestContext,
        tasks: TaskGroup,
        emit: Emit,
        *,
        max_contexts: int,
        on_end: OnEnd | None = None,
    ) -> None:
        self.ctx = ctx
        self._tasks = tasks
        self._emit = emit
        self._on_end = on_end
        self.max_contexts = max_contexts
        self._open: dict[str, LiveUtterance] = {}

    def get(self, key: str) -> LiveUtterance | None:
        """The open utterance of this key (one that has ended is no longer open)."""
        utterance = self._open.get(key)
        if utterance is not None and utterance.finished.is_set():
            del self._open[key]
            return None
        return utterance

    @property
    def open_utterances(self) -> Sequence[LiveUtterance]:
        return [u for u in self._open.values() if not u.finished.is_set()]

    async def open(
        self,
        key: str,
        ask: SpeechAsk,
        policy: BufferPolicy,
        *,
        inherit_decision: bool,
        after: LiveUtterance | None = None,
    ) -> LiveUtterance:
        """A new utterance under ``key``; ``after``: it speaks once that one has finished.

        Refuses with ``TooManyContexts`` when the socket has as many open as it may, and with
        the product's own errors (unknown voice, model, format) for a bad ``ask``; either way
        the attempt is metered as an utterance that failed."""
        child = self.ctx.child(inherit_decision=inherit_decision)
        try:
            if len(self.open_utterances) >= self.max_contexts:
                raise TooManyContexts(
                    f"At most {self.max_contexts} contexts may be open on one socket.",
                    fields=("context_id",),
                )
            speech = Speech(child, ask)
        except SottovoceError as exc:
            child.usage.record_error(exc.code, exc.status)
            await child.finish()
            raise
        utterance = LiveUtterance(key, speech, policy)
        self._open[key] = utterance
        self._tasks.start_soon(self._run, utterance, after)
        return utterance

    async def _run(self, utterance: LiveUtterance, after: LiveUtterance | None) -> None:
        if after is not None:
            await after.finished.wait()
        await utterance.run(self._emit)
        if self._on_end is not None:
            await self._on_end(utterance)

    def end_all(self) -> None:
        """No more input for any open utterance: each speaks what it has, then ends."""
        for utterance in self.open_utterances:
            utterance.end()

    async def wait_all(self) -> None:
        """Until every utterance opened so far is over."""
        for utterance in list(self._open.values()):
            await utterance.finished.wait()

    def cancel_all(self) -> None:
        """The socket is gone or failed: every utterance still open is cancelled."""
        for utterance in self.open_utterances:
            utterance.cancel()
