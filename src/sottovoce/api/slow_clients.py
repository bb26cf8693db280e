"""Slow clients: a request body must keep arriving, and arrive in time.

A client that sends its headers and then trickles its body (or sends nothing more) would hold a
connection and a request task for ever. :class:`BodyDeadline` wraps a request's ASGI
``receive``: while the body is incomplete, each read waits at most
``server.body_idle_timeout_s`` for the next piece, and the whole body must be in within
``server.body_timeout_s`` of the first read. Past either, the read raises
:class:`~sottovoce.errors.BodyTimeout` (408 in the route's vendor shape; the connection is then
closed, since its request was never read to the end). Once the body is complete, reads (a
streaming response listening for the client's disconnect) wait as long as they need.

Headers are guarded below the ASGI app, in the HTTP protocol (:mod:`sottovoce.serving`).
"""

from __future__ import annotations

import anyio
from starlette.types import Message, Receive, Scope

from sottovoce.errors import BodyTimeout

BODY_TIMED_OUT = "sottovoce.body_timed_out"
"""Scope key set when a body read timed out (the error handler answers 408)."""


class BodyDeadline:
    def __init__(self, scope: Scope, receive: Receive, idle_s: float, total_s: float) -> None:
        self._scope = scope
        self._receive = receive
        self._idle_s = idle_s
        self._total_s = total_s
        self._deadline: float | None = None
        self._done = False

    async def __call__(self) -> Message:
        if self._done:
            return await self._receive()
        now = anyio.current_time()
        if self._deadline is None:
            self._deadline = now + self._total_s
        with anyio.move_on_after(min(self._idle_s, self._deadline - now)):
            message = await self._receive()
            if message["type"] != "http.request" or not message.get("more_body", False):
                self._done = True
            return message
        self._scope[BODY_TIMED_OUT] = True
        raise BodyTimeout()
