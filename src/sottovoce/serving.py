"""The HTTP server: uvicorn, with SIGTERM turned into a graceful drain.

uvicorn's own SIGTERM handling stops listening and closes every socket at once. Here the first
SIGTERM starts the app's drain (:mod:`sottovoce.api.drain`) instead, and the server exits when
the drain is over; a second SIGTERM, or SIGINT, is uvicorn's usual (quicker) shutdown.
"""

from __future__ import annotations

import asyncio
import signal
import socket
from types import FrameType

import uvicorn

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
