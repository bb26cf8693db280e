"""The engine registry: ``provider/model`` ids to engines, built once per app.

Engines register here from :func:`build_registry`; each loads its weights on first use through
its own ``load()``, or at start-up when ``settings.engines.preload`` is on (hibari and Kokoro
only with ``settings.engines.preload_extra_voices``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeVar

import anyio

from sottovoce.config import Settings
from sottovoce.engines.allocator import trim_free_memory
from sottovoce.engines.base import Backlogged, ChatModel, ModelInfo, Synthesizer, Transcriber
from sottovoce.engines.hibari import MODEL_ID as HIBARI_ID
from sottovoce.engines.hibari import HibariSynthesizer
from sottovoce.engines.kokoro import MODEL_ID as KOKORO_ID
from sottovoce.engines.kokoro import KokoroSynthesizer
from sottovoce.engines.llama import local_chat_models
from sottovoce.engines.piper import PiperSynthesizer
from sottovoce.engines.speaker import SpeakerEncoder
from sottovoce.engines.upstream import upstream_chat_models
from sottovoce.engines.upstream_speech import upstream_speech_engines
from sottovoce.engines.whisper import local_transcribers
from sottovoce.engines.workers import WorkerPool
from sottovoce.errors import UnknownModel

Engine = Synthesizer | Transcriber | ChatModel
E = TypeVar("E")


class Loadable(Protocol):
    def load(self) -> None: ...


class EngineRegistry:
    def __init__(self, engines: Iterable[Engine] = ()) -> None:
        self._engines: dict[str, Engine] = {}
        self.speaker_encoder = SpeakerEncoder()
        """Speaker embeddings (voice matching); not a model clients address, loaded on use."""
        self.on_demand: frozenset[str] = frozenset()
        """Engines :meth:`load_all` leaves to their first use."""
        for engine in engines:
            self.add(engine)

    def add(self, engine: Engine) -> None:
        self._engines[engine.info.model_id] = engine

    def _get(self, model_id: str, kind: type[E]) -> E:
        engine = self._engines.get(model_id)
        if engine is None or not isinstance(engine, kind):
            raise UnknownModel()
        return engine

    def synthesizer(self, model_id: str) -> Synthesizer:
        return self._get(model_id, Synthesizer)  # type: ignore[type-abstract]

    def transcriber(self, model_id: str) -> Transcriber:
        return self._get(model_id, Transcriber)  # type: ignore[type-abstract]

    def chat_model(self, model_id: str) -> ChatModel:
        return self._get(model_id, ChatModel)  # type: ignore[type-abstract]

    def knows(self, model_id: str) -> bool:
        return model_id in self._engines

    def models(self, capability: str | None = None) -> list[ModelInfo]:
        return [
            e.info
            for e in self._engines.values()
            if capability is None or e.info.capability == capability
        ]

    def backlog_s(self) -> float:
        """How far behind the local engines' work is (the longest wait on their workers)."""
        pools = [e.backlog_s() for e in self._engines.values() if isinstance(e, Backlogged)]
        return max(pools, default=0.0)

    def worker_pools(self) -> list[WorkerPool]:
        """The local engines' worker pools (each once)."""
        pools = {id(p): p for e in self._engines.values() if (p := getattr(e, "pool", None))}
        return [p for p in pools.values() if isinstance(p, WorkerPool)]

    async def load_all(self) -> None:
        """Load every engine's weights now (but those :attr:`on_demand`), off the event loop."""
        for engine in self._engines.values():
            if engine.info.model_id in self.on_demand:
                continue
            load = getattr(engine, "load", None)
            if callable(load):
                await anyio.to_thread.run_sync(load)

    def release_memory(self, idle_s: float = 0.0, *, trim: bool = True) -> int:
        """Blocking: every loaded engine whose calls all ended ``idle_s`` ago or more gives back
        what it keeps between calls (the ONNX arenas); with ``trim``, the C allocator then gives
        its free pages back to the system. Returns how many engines gave something back."""
        released = 0
        for engine in self._engines.values():
            release = getattr(engine, "release_memory", None)
            if callable(release):
                released += bool(release(idle_s))
        if trim:
            trim_free_memory()
        return released


def build_registry(settings: Settings) -> EngineRegistry:
    """The engines this server offers. One line per engine."""
    registry = EngineRegistry()
    registry.add(PiperSynthesizer.from_settings(settings))
    tts = settings.tts
    pieces = {"max_chunk_chars": tts.max_chunk_chars, "first_chunk_words": tts.first_chunk_words}
    arena = settings.engines.onnx_arena
    registry.add(HibariSynthesizer(threads=tts.onnx_threads, arena=arena, **pieces))
    if settings.voices.kokoro:
        registry.add(KokoroSynthesizer(threads=tts.onnx_threads, arena=arena, **pieces))
    engines = settings.engines
    for transcriber in local_transcribers(settings.stt, engines.threads, engines.whisper_workers()):
        registry.add(transcriber)
    chat: list[ChatModel] = [*local_chat_models(settings), *upstream_chat_models(settings)]
    for engine in chat:
        registry.add(engine)
    for speech in upstream_speech_engines(settings):
        registry.add(speech)
    if not settings.engines.preload_extra_voices:
        # No default route speaks with them (the vendors' example voices reach Joe, Piper): about
        # 200 MB that only a client choosing one of their voices needs.
        registry.on_demand = frozenset({HIBARI_ID, KOKORO_ID})
    return registry
