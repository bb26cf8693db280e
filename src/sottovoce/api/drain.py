"""Graceful drain: what the server does between SIGTERM and its exit.

:class:`sottovoce.serving.DrainingServer` turns the first SIGTERM into :meth:`Drain.begin`
instead of uvicorn's immediate shutdown. From then on:

1. ``/readyz`` answers 503 (a load balancer stops sending new work); ``/healthz`` still 200;
2. new requests are refused with 503 ``server_draining`` and ``Retry-After`` in their vendor's
   error shape, new sockets are accepted and closed at once as "going away" (1001);
3. requests and sockets in flight have ``server.drain_grace_s`` to finish on their own;
4. sockets still open then are ended by their guards (:mod:`sottovoce.api.socket_guard`) with
   :class:`~sottovoce.errors.ServerDraining`: each surface sends its vendor's error and closes
   with 1001, and finishes its session as it does for any error: the usage record is written
   (with that error code), and nothing is half-written in history (a product writes history only
   once a piece of work is complete, and a session cut short is not);
5. once nothing is in flight (or a few seconds more have passed), the server exits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import anyio

from sottovoce.api.socket_guard import SocketGuard
from sottovoce.errors import ServerDraining
from sottovoce.privacy.logging import log_event

log = logging.getLogger("sottovoce.drain")

GOING_AWAY = 1001
EXEMPT_PATHS = frozenset({"/healthz", "/readyz"})
"""What a draining server still answers: the probes that watch it."""
RETRY_AFTER_S = 1
"""What a refused caller is told: another replica can take the retry at once."""
SETTLE_S = 5.0
"""How long ended sockets have, after the grace period, to write their usage and close."""


class Drain:
    """The requests and sockets in flight, and the drain that waits for them."""

    def __init__(self, grace_s: float, close_grace_s: float) -> None:
        self.grace_s = grace_s
        self.close_grace_s = close_grace_s
        self.draining = False
        self.in_flight = 0
        self.begun = 0
        """Requests and sockets begun since the start (the probes not counted)."""
        self._sockets: set[SocketGuard] = set()
        self._begun: anyio.Event | None = None
        self.on_done: Callable[[], None] = lambda: None
        """What the server does when the drain is over (exit)."""

    def begin(self) -> None:
        """Start draining (called on the event loop, once the signal came)."""
        self.draining = True
        if self._begun is not None:
            self._begun.set()

    @contextmanager
    def counting(self, path: str | None) -> Iterator[None]:
        """Count a request or socket in flight (the probes are not work to wait for)."""
        if path in EXEMPT_PATHS:
            yield
            return
        self.in_flight += 1
        self.begun += 1
        try:
            yield
        finally:
            self.in_flight -= 1

    @contextmanager
    def socket(self, guard: SocketGuard) -> Iterator[None]:
        """An open socket, to be ended if it outlives the grace period."""
        self._sockets.add(guard)
        try:
            yield
        finally:
            self._sockets.discard(guard)

    async def run_forever(self) -> None:
        """Wait for :meth:`begin`, drain, then call :attr:`on_done`."""
        self._begun = anyio.Event()
        if self.draining:
            self._begun.set()
        await self._begun.wait()
        log_event(log, "drain.started", count=self.in_flight)
        with anyio.move_on_after(self.grace_s):
            await self._until_idle()
        sockets = list(self._sockets)
        for guard in sockets:
            guard.end(ServerDraining(), GOING_AWAY)
        with anyio.move_on_after(self.close_grace_s + SETTLE_S):
            await self._until_idle()
        log_event(log, "drain.done", count=self.in_flight)
        self.on_done()

    async def _until_idle(self) -> None:
        while self.in_flight:
            await anyio.sleep(0.05)
