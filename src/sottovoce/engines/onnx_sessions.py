"""onnxruntime sessions as the local engines open them, and the memory they give back.

Two things made an ONNX engine's memory grow and stay (measured by ``bench/memory.py``):

- onnxruntime's Python ``InferenceSession`` keeps the bytes it was built from for as long as it
  lives, only to rebuild itself in ``set_providers()``, which is never called here: a second copy
  of the model (60 MB for Piper, 92 MB for Kokoro) held for nothing. :class:`ArenaSession` lets
  them go once the session is built.
- The CPU memory arena keeps the largest working set any call ever needed (Piper's decoder: a
  few hundred MB after a burst of long pieces) and never gives it back on its own. The arena
  makes every call faster (no fresh pages to fault in: Piper's calls took 7-15 % longer without
  it), so it stays on while the voice works, and :meth:`ArenaSession.release` gives it back once
  the voice has been unused for a while (:mod:`sottovoce.api.idle`): one small call with the
  ``memory.enable_memory_arena_shrinkage`` run option, which frees every arena region no tensor
  uses. With ``engines.onnx_arena`` off there is no arena at all (each call allocates and frees
  its own tensors: a lower peak, slower calls).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

SHRINK_ARENA = "memory.enable_memory_arena_shrinkage"
PROVIDERS = ["CPUExecutionProvider"]


def session_options(threads: int, *, arena: bool, spin: bool = False) -> Any:
    """Options for one engine's session: ``threads`` per call, no thread spinning by default
    (idle ONNX threads spin, burning the cores the other engines' calls need)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    options.enable_cpu_mem_arena = arena
    if not spin:
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


class ArenaSession:
    """An ``InferenceSession`` (``run`` as callers know it) that keeps no copy of its model and
    can give its arena back. Thread-safe, as the session it wraps."""

    def __init__(self, model: bytes | Path, options: Any) -> None:
        import onnxruntime

        source = model if isinstance(model, bytes) else str(model)
        self._session = onnxruntime.InferenceSession(
            source, sess_options=options, providers=PROVIDERS
        )
        if getattr(self._session, "_model_bytes", None) is not None:
            self._session._model_bytes = None
        self.arena: bool = bool(options.enable_cpu_mem_arena)
        self._releasing = threading.local()
        self._lock = threading.Lock()
        self._running = 0
        self._ended = 0.0
        """When the last call ended (``time.monotonic()``)."""
        self._used = False
        """Whether a call ran since the arena was last given back."""
        self._shrink = onnxruntime.RunOptions()
        self._shrink.add_run_config_entry(SHRINK_ARENA, "cpu:0")

    def run(
        self, output_names: Sequence[str] | None, inputs: dict[str, Any], run_options: Any = None
    ) -> list[Any]:
        if run_options is None and getattr(self._releasing, "on", False):
            result: list[Any] = self._session.run(output_names, inputs, self._shrink)
            return result
        with self._lock:
            self._running += 1
            self._used = True
        try:
            result = self._session.run(output_names, inputs, run_options)
            return result
        finally:
            with self._lock:
                self._running -= 1
                self._ended = time.monotonic()

    def releasable(self, idle_s: float = 0.0) -> bool:
        """Whether :meth:`release` would run now: an arena that may have grown since the last
        release, no call running, and the last one ended ``idle_s`` ago or more."""
        with self._lock:
            quiet = self._running == 0 and time.monotonic() - self._ended >= idle_s
            return self.arena and self._used and quiet

    def release(self, call: Callable[[], object], idle_s: float = 0.0) -> bool:
        """Run ``call`` (a small synthesis through this session, on this thread) so that the
        arena frees every region no tensor uses when it ends. Only when the arena may have
        grown since the last release, no call is running and the last one ended ``idle_s`` ago
        or more (:meth:`releasable`); returns whether it ran."""
        if not self.releasable(idle_s):
            return False
        with self._lock:
            self._used = False
        self._releasing.on = True
        try:
            call()
        finally:
            self._releasing.on = False
        return True

    def __getattr__(self, name: str) -> Any:
        # get_inputs(), get_outputs() and the rest, as the wrapped session has them.
        return getattr(self._session, name)
