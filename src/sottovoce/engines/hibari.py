"""hibari: a small English neural TTS (Kokoro lineage, int8 ONNX) with its own G2P, no espeak.

The ``hibari-tts`` wheel (Apache-2.0) ships one voice, ``heart`` (American English, female), in
``hibari/assets/hibari.onnx``. Any other hibari voice name makes the package fetch a model from
a model hub with urllib on first use (ignoring ``HF_HUB_OFFLINE``), so this engine is locked to
the bundled file: it opens that path itself and never passes a voice name to hibari's voice
registry; a request for any other voice is refused before hibari is called. A test runs it
under an audit hook that fails on any socket.

Output: 24 kHz float32; hibari's ``stream`` yields one array per sentence. Speed 0.5-2.0.
"""

from __future__ import annotations

import functools
import importlib.util
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import anyio
import numpy as np
import numpy.typing as npt

from sottovoce.engines.base import AudioChunk, ModelInfo, SynthesisRequest
from sottovoce.engines.onnx_sessions import ArenaSession, session_options
from sottovoce.engines.pieces import speak_pieces
from sottovoce.errors import EngineUnavailable, InvalidRequest, UnknownVoice
from sottovoce.privacy.providers import LOCAL_PROVIDER

MODEL_ID = "local/hibari"
VOICE = "heart"
"""The one voice inside the wheel; every other name would be downloaded."""
SAMPLE_RATE = 24_000
MIN_SPEED, MAX_SPEED = 0.5, 2.0


def bundled_model() -> Path:
    spec = importlib.util.find_spec("hibari")
    if spec is None or not spec.submodule_search_locations:
        raise EngineUnavailable("The hibari-tts package is not installed.")
    path = Path(next(iter(spec.submodule_search_locations))) / "assets" / "hibari.onnx"
    if not path.is_file():
        raise EngineUnavailable("hibari-tts has no bundled voice file.")
    return path


class HibariSynthesizer:
    """The ``local/hibari`` engine, voice ``heart`` only. Thread-safe; loads once."""

    sample_rate: int = SAMPLE_RATE

    def __init__(
        self,
        *,
        threads: int = 2,
        max_chunk_chars: int = 120,
        first_chunk_words: int = 4,
        arena: bool = True,
    ) -> None:
        self.info = ModelInfo(
            model_id=MODEL_ID,
            capability="tts",
            provider=LOCAL_PROVIDER,
            display_name="hibari (heart, American English)",
            languages=("en",),
            speed_range=(MIN_SPEED, MAX_SPEED),
        )
        self._threads = threads
        self._arena = arena
        self._max_chunk_chars = max_chunk_chars
        self._first_chunk_words = first_chunk_words
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hibari")
        self._lock = threading.Lock()
        self._tts: Any = None

    def load(self) -> None:
        with self._lock:
            if self._tts is not None:
                return
            from hibari import Hibari
            from hibari.g2p import G2P

            # An explicit model path and G2P: hibari's voice registry (and its downloader) is
            # never consulted.
            model = bundled_model()
            tts = Hibari(voice=VOICE, model=str(model), threads=self._threads, g2p=G2P())
            # hibari's own session spins its idle threads and keeps its arena: ours instead.
            tts.sess = ArenaSession(model, session_options(self._threads, arena=self._arena))
            tts("Ready.", seed=0)  # first-call allocations and the G2P's tables
            self._tts = tts

    def release_memory(self, idle_s: float = 0.0) -> bool:
        """Give the ONNX arena back if no call ran for ``idle_s`` (blocking); whether it did."""
        tts = self._tts
        if tts is None or not tts.sess.releasable(idle_s):
            return False
        run = functools.partial(self.render, "Ready.")
        return bool(self._executor.submit(tts.sess.release, run, idle_s).result())

    def render(self, text: str, speed: float = 1.0) -> npt.NDArray[np.float32]:
        """One piece of text to 24 kHz float samples (blocking)."""
        self.load()
        parts = list(self._tts.stream(text, speed))
        return np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, np.float32)

    async def synthesize(self, request: SynthesisRequest) -> AsyncIterator[AudioChunk]:
        if request.voice_id != VOICE or request.style is not None:
            raise UnknownVoice(fields=("voice_id",))
        if not MIN_SPEED <= request.speed <= MAX_SPEED:
            raise InvalidRequest(
                f"speed must be between {MIN_SPEED:g} and {MAX_SPEED:g}.", fields=("speed",)
            )
        if self._tts is None:
            await anyio.to_thread.run_sync(self.load)
        speed = request.speed
        async for chunk in speak_pieces(
            request.text.reveal(),
            lambda piece: self.render(piece, speed),
            executor=self._executor,
            sample_rate=SAMPLE_RATE,
            max_chars=self._max_chunk_chars,
            first_words=self._first_chunk_words,
        ):
            yield chunk
