"""WSOLA time-stretching: exact lengths, the pitch kept."""

from __future__ import annotations

import numpy as np
import pytest

from sottovoce.audio.stretch import stretch

RATE = 24000


def pitch(samples: np.ndarray) -> float:
    middle = samples[samples.size // 4 : 3 * samples.size // 4]
    return float(np.sum(np.diff(np.sign(middle)) > 0) / (middle.size / RATE))


@pytest.mark.parametrize("factor", [0.6, 1.0, 1.7])
def test_the_length_changes_and_the_pitch_does_not(factor: float) -> None:
    tone = (0.5 * np.sin(2 * np.pi * 150 * np.arange(RATE) / RATE)).astype(np.float32)
    out = stretch(tone, int(RATE * factor), RATE)
    assert out.size == int(RATE * factor)
    assert abs(pitch(out) - 150) < 5
    assert float(np.max(np.abs(out))) < 0.55


def test_degenerate_inputs() -> None:
    assert stretch(np.zeros(0, np.float32), 100, RATE).size == 100
    assert stretch(np.ones(10, np.float32), 0, RATE).size == 0
    assert stretch(np.ones(50, np.float32), 80, RATE).size == 80
