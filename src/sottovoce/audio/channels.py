"""Whether the channels of a recording carry different sounds (one speaker per channel).

Call centres and telephony recorders put the agent on one channel and the caller on the other.
Mixed down, overlapping talk turns into one garbled voice that Whisper cannot follow; channel
by channel, each speaker comes out clean. A stereo recording of one scene (one microphone
copied twice, a stereo pair, a spaced pair) has channels that are the same sound, at most a few
milliseconds apart: their cross-correlation peaks near 1 within a short lag. Channels with
separate speakers do not correlate at any lag, bleed between them aside.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sottovoce.audio.pcm import TARGET_RATE, FloatArray

MAX_LAG_SECONDS = 0.03
"""Largest delay between two microphones of one scene (10 m of path difference)."""
SAME_SOUND = 0.3
"""Peak normalised cross-correlation from which two channels count as one scene."""
QUIET_DB = 35.0
"""A channel this much quieter than the loudest has nothing of its own to transcribe."""
SILENT_DB = -70.0
"""Below this level (dBFS) a channel is silence."""
WINDOW_SECONDS = 30.0
"""The comparison looks at the first half-minute (enough to tell, cheap on hours of audio)."""


def peak_correlation(a: FloatArray, b: FloatArray, max_lag: int) -> float:
    """The largest normalised cross-correlation of ``a`` and ``b`` within ``max_lag`` samples."""
    n = min(a.size, b.size)
    a = a[:n] - a[:n].mean()
    b = b[:n] - b[:n].mean()
    energy = float(np.sqrt(np.dot(a, a) * np.dot(b, b)))
    if n == 0 or energy == 0.0:
        return 0.0
    size = 1 << int(np.ceil(np.log2(2 * n)))
    spectrum = np.fft.rfft(a, size) * np.conj(np.fft.rfft(b, size))
    lags = np.fft.irfft(spectrum, size)
    near = np.concatenate([lags[-max_lag:], lags[: max_lag + 1]])
    return float(np.max(np.abs(near))) / energy


def _level_db(samples: FloatArray) -> float:
    return 10.0 * float(np.log10(np.mean(np.square(samples, dtype=np.float64)) + 1e-12))


def separate_speakers(channels: Sequence[FloatArray]) -> bool:
    """True when at least two channels carry sound of their own that no other channel has."""
    if len(channels) < 2:
        return False
    # Half the rate is plenty to compare voices, and four times cheaper.
    window = [c[: int(WINDOW_SECONDS * TARGET_RATE) : 2] for c in channels]
    levels = [_level_db(c) for c in window]
    floor = max(max(levels) - QUIET_DB, SILENT_DB)
    loud = [c for c, level in zip(window, levels, strict=True) if level > floor]
    if len(loud) < 2:
        return False
    max_lag = int(MAX_LAG_SECONDS * TARGET_RATE / 2)
    return all(
        peak_correlation(loud[i], loud[j], max_lag) < SAME_SOUND
        for i in range(len(loud))
        for j in range(i + 1, len(loud))
    )
