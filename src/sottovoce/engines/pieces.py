"""Text to audio piece by piece, for engines that render one piece of text at a time.

The text is split like Piper's (:mod:`sottovoce.engines.text_split`: a short first piece, then
sentences and clauses), each piece is rendered off the event loop on the engine's own small
pool, and the next piece is started while the previous one is handed out. Engines that report
no phoneme durations get character timings shared among the words by their length.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import numpy.typing as npt

from sottovoce.engines.base import AudioChunk
from sottovoce.engines.piper import even_alignment
from sottovoce.engines.text_split import split_text
from sottovoce.errors import EngineFailed
from sottovoce.privacy.sensitive import Sensitive

Render = Callable[[str], npt.NDArray[np.float32]]
"""One piece of text to mono float samples at the engine's rate (blocking)."""

PEAK = 0.95


def to_pcm16(audio: npt.NDArray[np.float32], normalize: bool = False) -> bytes:
    samples = np.asarray(audio, dtype=np.float32).reshape(-1)
    if normalize and samples.size:
        peak = float(np.max(np.abs(samples)))
        if peak > 1e-8:
            samples = samples * (PEAK / peak)
    return (np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()


def _safe(render: Render, text: str) -> npt.NDArray[np.float32]:
    try:
        return render(text)
    except (ValueError, RuntimeError, KeyError, IndexError) as exc:
        # Messages of G2P and ONNX errors may quote the text: keep only the class.
        raise EngineFailed() from type(exc)()


async def speak_pieces(
    text: str,
    render: Render,
    *,
    executor: ThreadPoolExecutor,
    sample_rate: int,
    max_chars: int,
    first_words: int,
) -> AsyncIterator[AudioChunk]:
    """The chunks of ``text``, one per piece, each rendered while the previous one is sent."""
    spans = split_text(text, max_chars=max_chars, first_words=first_words)
    loop = asyncio.get_running_loop()

    def start(index: int) -> asyncio.Future[npt.NDArray[np.float32]]:
        piece = text[spans[index].start : spans[index].end]
        return loop.run_in_executor(executor, _safe, render, piece)

    pending = start(0) if spans else None
    try:
        for index, span in enumerate(spans):
            assert pending is not None
            audio = await pending
            pending = start(index + 1) if index + 1 < len(spans) else None
            pcm = to_pcm16(audio)
            duration = len(pcm) / 2 / sample_rate
            piece = text[span.start : span.end]
            yield AudioChunk(
                pcm=Sensitive(pcm),
                sample_rate=sample_rate,
                alignment=Sensitive(even_alignment(piece, 0.0, duration, duration)),
            )
    finally:
        if pending is not None:
            pending.cancel()
