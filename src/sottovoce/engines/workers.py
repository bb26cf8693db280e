"""A fixed pool of inference workers, and how far behind the work on it is.

Blocking inference runs in worker threads, at most ``size`` calls at once; the others wait
their turn, in order. Nothing is refused here: admission control decides what is let in
(:mod:`sottovoce.services.admission`), and reads :meth:`WorkerPool.backlog_s` to see whether
the work already admitted is keeping up. The backlog is the longest that anything has been
kept waiting: a call waiting for a worker, or a live caller whose input is held up until a
result comes (:meth:`WorkerPool.holding_up`: a live session's audio queues while its commit is
decoded, so that wait is how far behind real time the session is).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import anyio

T = TypeVar("T")


class WorkerPool:
    """``size`` workers shared by the engines handed this pool."""

    def __init__(self, size: int) -> None:
        self.size = max(1, size)
        self._limiter = anyio.CapacityLimiter(self.size)
        # Threads of the pool's own: a worker never waits behind anyio's shared default threads.
        self._threads = anyio.CapacityLimiter(self.size)
        self._waiting: dict[int, float] = {}
        """Calls waiting for a worker: their number -> when they began to wait."""
        self._held: dict[int, float] = {}
        """Callers held up until a result comes: their number -> since when."""
        self._numbers = itertools.count()
        self.started = 0
        """Calls that have had a worker, since the pool was made."""
        self.busy_s = 0.0
        """Seconds the workers have spent on calls, all together, since the pool was made."""

    async def run(self, call: Callable[[], T]) -> T:
        """Run a blocking call on a worker once one is free (a cancelled caller still waits for
        a call already running: the worker is given back only when it is done)."""
        number = next(self._numbers)
        self._waiting[number] = time.monotonic()
        try:
            await self._limiter.acquire()
        finally:
            del self._waiting[number]
        self.started += 1
        began = time.monotonic()
        try:
            return await anyio.to_thread.run_sync(call, limiter=self._threads)
        finally:
            self.busy_s += time.monotonic() - began
            self._limiter.release()

    @property
    def busy(self) -> int:
        """Calls running now."""
        return int(self._limiter.borrowed_tokens)

    @property
    def waiting(self) -> int:
        """Calls waiting for a worker."""
        return len(self._waiting)

    @contextmanager
    def holding_up(self) -> Iterator[None]:
        """Count the time inside as a caller held up by this pool's work (its input waits)."""
        number = next(self._numbers)
        self._held[number] = time.monotonic()
        try:
            yield
        finally:
            del self._held[number]

    def backlog_s(self, now: float | None = None) -> float:
        """How long the call or caller kept waiting longest has waited (0: none waits)."""
        since = [*self._waiting.values(), *self._held.values()]
        if not since:
            return 0.0
        now = time.monotonic() if now is None else now
        return max(0.0, now - min(since))
