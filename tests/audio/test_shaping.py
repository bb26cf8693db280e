"""Pitch and formant shaping: the chunk keeps its length, the pitch moves by the ratio, the
formants move without the pitch."""

from __future__ import annotations

import numpy as np
import pytest

from sottovoce.audio.shaping import Shaping, shape, shape_pcm
from sottovoce.services.voice_search import median_f0
from tests.spoken import speak


def joe() -> tuple[np.ndarray, int]:
    clip = speak("The garden was quiet this morning, and the river was calm.")
    return clip.samples.astype(np.float32) / 32768, clip.rate


def centroid(samples: np.ndarray, rate: int) -> float:
    power = np.abs(np.fft.rfft(samples)) ** 2
    freqs = np.fft.rfftfreq(samples.size, 1 / rate)
    return float((power * freqs).sum() / power.sum())


def vowel(f0: float = 120.0, rate: int = 22050) -> np.ndarray:
    """A steady vowel: harmonics of ``f0`` under two formant peaks (700 and 1200 Hz)."""
    t = np.arange(rate) / rate
    harmonics = np.arange(1, int(5000 / f0))
    gains = sum(1 / (1 + ((harmonics * f0 - f) / 150) ** 2) for f in (700.0, 1200.0)) + 0.05
    signal = (gains[:, None] * np.sin(2 * np.pi * f0 * harmonics[:, None] * t)).sum(axis=0)
    return (0.3 * signal / np.abs(signal).max()).astype(np.float32)


@pytest.mark.parametrize("pitch", [0.8, 1.3])
@pytest.mark.parametrize("formant", [0.9, 1.0, 1.1])
def test_the_pitch_moves_by_the_ratio_and_the_length_stays(pitch: float, formant: float) -> None:
    audio, rate = vowel(), 22050
    wanted = Shaping(pitch, pitch * formant)
    shaped = shape(audio, rate, wanted)
    assert shaped.size == audio.size
    after = median_f0(shaped, rate)
    assert after is not None
    assert after / 120.0 == pytest.approx(pitch, rel=0.03)


def test_formants_move_without_the_pitch() -> None:
    audio, rate = joe()
    higher = shape(audio, rate, Shaping(1.0, 1.2))
    lower = shape(audio, rate, Shaping(1.0, 0.85))
    assert centroid(lower, rate) < centroid(audio, rate) < centroid(higher, rate)
    f0 = median_f0(audio, rate)
    assert f0 is not None
    for shaped in (higher, lower):
        moved = median_f0(shaped, rate)
        assert moved is not None and moved / f0 == pytest.approx(1.0, rel=0.08)


def test_no_shaping_changes_nothing() -> None:
    audio, rate = joe()
    pcm = (audio * 32767).astype("<i2").tobytes()
    assert shape_pcm(pcm, rate, Shaping()) == pcm
    assert len(shape_pcm(pcm, rate, Shaping(1.2, 0.9))) == len(pcm)
