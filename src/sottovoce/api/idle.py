"""Memory given back when the server is idle.

Under load the engines keep what their calls allocate (onnxruntime's arenas, the C allocator's
heaps), so that the next call finds its pages ready; nothing gives it back on its own. Once no
request or socket has been in flight for ``engines.release_idle_s`` after some work, each
loaded engine gives its arena back and the allocator its free pages
(:meth:`~sottovoce.engines.registry.EngineRegistry.release_memory`, in a worker thread: one
small synthesis per ONNX voice used since the last time, and ``malloc_trim``). A server that is
never idle keeps its working set, which the admission limits bound.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import anyio

from sottovoce.api.drain import Drain
from sottovoce.privacy.logging import log_event

log = logging.getLogger("sottovoce.memory")


class IdleRelease:
    def __init__(self, drain: Drain, release: Callable[[], None], idle_s: float) -> None:
        self.drain = drain
        self.release = release
        self.idle_s = idle_s
        self.checks = 0
        self.released = 0
        """How many times the server looked, and how many times it gave memory back."""

    async def run_forever(self) -> None:
        if self.idle_s <= 0:
            return
        # The engines' warm-up at start-up is work too: given back at the first idle moment.
        released_at: int | None = None
        seen = self.drain.begun
        while True:
            await anyio.sleep(self.idle_s)
            self.checks += 1
            begun = self.drain.begun
            quiet = begun == seen and self.drain.in_flight == 0
            seen = begun
            if quiet and begun != released_at:
                released_at = begun
                await self._release()

    async def _release(self) -> None:
        started = time.perf_counter()
        await anyio.to_thread.run_sync(self.release)
        self.released += 1
        duration_ms = int((time.perf_counter() - started) * 1000)
        log_event(log, "memory.released", logging.DEBUG, duration_ms=duration_ms)
