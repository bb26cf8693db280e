"""Every socket's channel, watched for its session's revocation (one place for every surface).

The middleware wraps each WebSocket's ASGI ``receive`` and ``send`` in a :class:`SocketGuard`;
authenticating the socket (:func:`sottovoce.api.deps.context_for`) hands the guard its request
context's :class:`~sottovoce.services.sessions.Lease`, which the guard keeps registered with the
app's open sessions while the socket lives. When the lease is revoked (the key revoked, the
workspace deleted, restricted, or its retention settings switched):

- nothing more the session sends reaches the client, until its handler was told;
- the handler is told at once if it is waiting for a client message, or at its next read: the
  read raises the :class:`~sottovoce.errors.SessionRevoked`, so each surface answers it the way it
  answers any error (its vendor's error message, the close code for an auth error, 1008), and
  finishes its session (usage written, nothing retained);
- a handler that has not closed within ``server.revoked_close_grace_s`` (busy in an engine) has
  its socket closed by the guard itself, 1008 with the error's code as the reason; what it sends
  afterwards is dropped and its reads see the client gone.

A server that drains (:mod:`sottovoce.api.drain`) ends its remaining sockets the same way, with
:class:`~sottovoce.errors.ServerDraining` and the "going away" close code, 1001.

The guard also reads each socket's messages ahead of its handler (a few MiB at most), so that a
handler busy in an engine does not stop the server reading the connection, whose keepalive
could otherwise close a live transcription that falls 20 s behind.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from contextlib import ExitStack

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sottovoce.errors import SottovoceError
from sottovoce.services.sessions import Lease, OpenSessions

GUARD = "sottovoce.socket_guard"
"""Scope key of a WebSocket's guard (set by the middleware)."""
POLICY_VIOLATION = 1008
_GONE: Message = {"type": "websocket.disconnect", "code": POLICY_VIOLATION}
READ_AHEAD_BYTES = 4 * 1024 * 1024
"""Most message bytes read ahead of a busy handler (about 100 s of a live transcription's
base64 audio)."""


def _size(message: Message) -> int:
    return len(message.get("text") or message.get("bytes") or b"")


class SocketGuard:
    """One WebSocket's ASGI channel, its session's lease, and how the server ends it."""

    def __init__(
        self, receive: Receive, send: Send, sessions: OpenSessions, grace_s: float
    ) -> None:
        self._receive = receive
        self._send = send
        self._sessions = sessions
        self._grace_s = grace_s
        self._lease: Lease | None = None
        self._holding = ExitStack()
        self._reading: set[anyio.CancelScope] = set()
        self._ending: tuple[SottovoceError, int] | None = None
        """Why the server ends this socket, and the close code its fallback close uses."""
        self._ended = anyio.Event()
        self._told = False
        """The handler was handed the error: what it sends now is its answer to it."""
        self._closed = False
        """A close frame went out (the handler's or ours)."""
        self._lock = anyio.Lock()
        self._serving: anyio.CancelScope | None = None
        """The handler's scope while it runs (:meth:`serve`)."""
        self._inbox_in, self._inbox_out = anyio.create_memory_object_stream[Message](math.inf)
        """Messages read ahead of the handler (:meth:`_read_ahead`)."""
        self._queued_bytes = 0
        self._room: anyio.Event | None = None
        """Set when the handler takes a message: the reader may read on."""

    @property
    def ended_by(self) -> SottovoceError | None:
        """Why the server ended this socket, if it did."""
        return self._ending[0] if self._ending is not None else None

    def watch(self, lease: Lease) -> None:
        """The socket is authenticated: keep its lease checked while it lives."""
        if self._lease is not None:
            return
        self._lease = lease
        self._holding.enter_context(self._sessions.holding(lease))
        lease.on_revoke(lambda error: self.end(error, POLICY_VIOLATION))

    def end(self, error: SottovoceError, code: int) -> None:
        """The server ends this socket (once): its handler is told ``error``, or else the
        socket is closed with ``code`` after the grace period."""
        if self._ending is not None or self._closed:
            return
        self._ending = (error, code)
        for scope in self._reading:
            scope.cancel()
        self._ended.set()

    async def serve(self, app: ASGIApp, scope: Scope) -> None:
        """Run the socket's handler over the guarded channel."""
        failure: Exception | None = None
        async with anyio.create_task_group() as tasks:
            self._serving = tasks.cancel_scope
            tasks.start_soon(self._enforce)
            tasks.start_soon(self._read_ahead)
            try:
                await app(scope, self.receive, self.send)
            except Exception as exc:  # raised after the task group, unwrapped
                failure = exc
            finally:
                tasks.cancel_scope.cancel()
                self._holding.close()
        self._inbox_in.close()
        self._inbox_out.close()
        if failure is not None:
            raise failure

    async def receive(self) -> Message:
        if self._ending is None:
            with anyio.CancelScope() as reading:
                self._reading.add(reading)
                try:
                    return await self._next()
                finally:
                    self._reading.discard(reading)
        return self._tell()

    async def _read_ahead(self) -> None:
        """Read the client's messages as they arrive, even while the handler is busy (a decode
        can take seconds on a loaded machine): the server then keeps reading the connection,
        and sees its keepalive pongs. Otherwise it stops reading until the handler asks for the
        next message, and closes the connection (1011) once a ping goes unanswered for 20 s.
        At most ``READ_AHEAD_BYTES`` wait; beyond that, reading waits for the handler again."""
        while True:
            while self._queued_bytes > READ_AHEAD_BYTES:
                self._room = anyio.Event()
                await self._room.wait()
            message = await self._receive()
            self._queued_bytes += _size(message)
            self._inbox_in.send_nowait(message)
            if message["type"] == "websocket.disconnect":
                self._inbox_in.close()
                return

    async def _next(self) -> Message:
        try:
            message = await self._inbox_out.receive()
        except anyio.EndOfStream:
            return dict(_GONE)  # read again after the client's disconnect
        self._queued_bytes -= _size(message)
        if self._room is not None:
            self._room.set()
        return message

    def _tell(self) -> Message:
        """The handler learns why its socket ends: raised once, then the client is gone."""
        if self._ending is None or self._told or self._closed:
            return dict(_GONE)
        self._told = True
        raise self._ending[0]

    async def send(self, message: Message) -> None:
        ending = self._ending is not None
        if ending and self._closed:
            return
        if ending and not self._told and message["type"] == "websocket.send":
            return
        async with self._lock:
            if self._closed and self._ending is not None:
                return
            if message["type"] == "websocket.close":
                self._closed = True
            await self._send(message)

    async def _enforce(self) -> None:
        await self._ended.wait()
        await anyio.sleep(self._grace_s)
        async with self._lock:
            if self._closed or self._ending is None:
                return
            self._closed = True
            error, code = self._ending
            # Its sends are dropped from now on and its reads see the client gone.
            for scope in self._reading:
                scope.cancel()
            try:
                await self._send({"type": "websocket.close", "code": code, "reason": error.code})
            except (OSError, RuntimeError):
                # The client is gone (its close unread by the busy handler): nobody is left to
                # answer, so the handler is stopped here, as a hang-up stops it.
                if self._serving is not None:
                    self._serving.cancel()


def guard_of(scope: Scope) -> Callable[[Lease], None] | None:
    """How to hand a socket's lease to its guard (``None`` for an HTTP request)."""
    guard = scope.get(GUARD)
    return guard.watch if isinstance(guard, SocketGuard) else None
