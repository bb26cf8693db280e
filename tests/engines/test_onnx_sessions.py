"""The ONNX engines' sessions: no second copy of the model, and the arena given back on demand."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from sottovoce.engines.hibari import bundled_model
from sottovoce.engines.onnx_sessions import ArenaSession, session_options
from sottovoce.engines.piper import PiperSynthesizer

PIECE = "Your appointment is confirmed for Tuesday at three thirty in the afternoon, thank you."
MIB = 1024 * 1024


def resident_anonymous() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no RssAnon in /proc/self/status")


def test_a_session_built_from_bytes_keeps_no_reference_to_them() -> None:
    # onnxruntime's own wrapper holds the bytes for the session's life (60-90 MB per voice).
    model = bundled_model().read_bytes()
    before = sys.getrefcount(model)
    session = ArenaSession(model, session_options(1, arena=True))
    assert sys.getrefcount(model) == before
    outputs = session.run(
        None, {"ids": np.array([[0, 50, 0]], np.int64), "speed": np.ones(1, np.float32)}
    )
    assert outputs[0].size > 0


def test_release_gives_the_arena_back() -> None:
    engine = PiperSynthesizer(inference_slots=1, arena=True)
    engine.load()
    engine.release_memory()
    loaded = resident_anonymous()
    for speed in (0.5, 0.6, 0.7):  # slow speech: long audio, large decoder tensors
        assert engine.synthesize_piece(PIECE, speed).pcm
    grown = resident_anonymous() - loaded
    # The arena holds the largest working set seen (else this test would prove nothing).
    assert grown > 40 * MIB, grown / MIB
    engine.release_memory()
    assert resident_anonymous() - loaded < grown / 3, grown / MIB


def test_without_an_arena_release_is_a_no_op() -> None:
    engine = PiperSynthesizer(inference_slots=1, arena=False)
    assert engine.synthesize_piece(PIECE).pcm
    assert not engine.release_memory()
    assert engine.synthesize_piece(PIECE).pcm


def test_an_engine_gives_its_arena_back_only_once_its_calls_are_over_for_long_enough() -> None:
    engine = PiperSynthesizer(inference_slots=1, arena=True)
    assert engine.synthesize_piece(PIECE).pcm
    assert not engine.release_memory(idle_s=3600)  # its last call ended just now
    assert engine.release_memory(idle_s=0)
    assert not engine.release_memory(idle_s=0)  # nothing ran since: the arena has not grown
