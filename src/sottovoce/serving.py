"""The HTTP server: uvicorn, with SIGTERM turned into a graceful drain, and a deadline on
request headers (:func:`header_deadline_protocol`).

uvicorn's own SIGTERM handling stops listening and closes every socket at once. Here the first
SIGTERM starts the app's drain (:mod:`sottovoce.api.drain`) instead, and the server exits when
the drain is over; a second SIGTERM, or SIGINT, is uvicorn's usual (quicker) shutdown.
"""

from __future__ import annotations

import asyncio
import signal
import socket
from types import FrameType

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from sottovoce.api.drain import Drain

AFTER_DRAIN_S = 5
"""uvicorn's own graceful shutdown, once the drain is over: what is left is cancelled then."""


class DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, drain: Drain) -> None:
        config.timeout_graceful_shutdown = AFTER_DRAIN_S
        super().__init__(config)
        self.drain = drain
        self._loop: asyncio.AbstractEventLoop | None = None
        drain.on_done = self._drained

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        await super().startup(sockets)

    def _drained(self) -> None:
        self.should_exit = True

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if sig == signal.SIGTERM and not self.drain.draining and self._loop is not None:
            # Not yet exiting: uvicorn re-raises the captured signal once it has shut down.
            self._captured_signals.append(sig)
            self._loop.call_soon_threadsafe(self.drain.begin)
            return
        super().handle_exit(sig, frame)


def header_deadline_protocol(header_timeout_s: float) -> type[H11Protocol]:
    """uvicorn's HTTP/1.1 protocol, with a deadline on a request's line and headers.

    uvicorn times out an idle keep-alive connection, but not one that connects and then sends
    its headers slowly, or not at all: such connections would be held for ever (a slowloris).
    Here a connection must complete each request's headers within ``header_timeout_s`` of
    connecting, or of its first byte after the previous response; otherwise it is closed."""

    class HeaderDeadline(H11Protocol):
        _deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)  # type: ignore[arg-type]
            self._arm()

        def data_received(self, data: bytes) -> None:
            if self.conn.their_state is h11.IDLE and self.cycle_done():
                self._arm()
            super().data_received(data)
            if self.conn.their_state is not h11.IDLE:
                self._disarm()  # the request's headers are in

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def cycle_done(self) -> bool:
            return self.cycle is None or self.cycle.response_complete

        def _arm(self) -> None:
            if self._deadline is None:
                self._deadline = self.loop.call_later(header_timeout_s, self._expired)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _expired(self) -> None:
            self._deadline = None
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                self.transport.close()

    return HeaderDeadline
