"""Memory given back when the work is over.

Under load the engines keep what their calls allocate (onnxruntime's arenas, the C allocator's
heaps), so that the next call finds its pages ready; nothing gives it back on its own. Every
``engines.release_idle_s``, in a worker thread
(:meth:`~sottovoce.engines.registry.EngineRegistry.release_memory`):

- while requests or sockets are in flight, each ONNX voice whose last call ended that long ago
  gives its arena back (one small synthesis with the arena's shrink option): the TTS arena does
  not stay at its peak through an hour of realtime transcription;
- once nothing has been in flight for that long after some work, every engine does, and the C
  allocator gives its free pages back (``malloc_trim``).

What stays resident under load is the working set of the work running, which the admission
limits bound.
"""

from __future__ import annotations

import logging
import time

import anyio

from sottovoce.api.drain import Drain
from sottovoce.engines.registry import EngineRegistry
from sottovoce.privacy.logging import log_event

log = logging.getLogger("sottovoce.memory")


class IdleRelease:
    def __init__(self, drain: Drain, engines: EngineRegistry, idle_s: float) -> None:
        self.drain = drain
        self.engines = engines
        self.idle_s = idle_s
        self.checks = 0
        self.released = 0
        """How many times the server looked, and how many times it gave everything back."""

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
                await self._release_all()
            elif not quiet:
                await anyio.to_thread.run_sync(self._release_idle_engines)

    def _release_idle_engines(self) -> None:
        count = self.engines.release_memory(self.idle_s, trim=False)
        if count:
            log_event(log, "memory.released", logging.DEBUG, count=count, where="idle_engines")

    async def _release_all(self) -> None:
        started = time.perf_counter()
        count = await anyio.to_thread.run_sync(self.engines.release_memory)
        self.released += 1
        duration_ms = int((time.perf_counter() - started) * 1000)
        log_event(log, "memory.released", logging.DEBUG, count=count, duration_ms=duration_ms)
