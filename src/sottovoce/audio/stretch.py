"""Time-stretching speech without changing its pitch: WSOLA, in numpy, in memory.

Waveform-similarity overlap-add: output frames of 30 ms (Hann windows, half overlapping) are
taken from the input at the stretched position, each shifted by up to 10 ms to where it best
continues the previous frame (cross-correlation), so pitch periods line up and the voice keeps
its pitch. Good for the factors speech-to-speech needs (0.5-2x); beyond, it starts to stutter.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float32]


def stretch(samples: Floats, length: int, rate: int) -> Floats:
    """``samples`` stretched or squeezed to exactly ``length`` samples, pitch unchanged."""
    source = np.asarray(samples, dtype=np.float32).reshape(-1)
    if length <= 0:
        return np.zeros(0, np.float32)
    if source.size == 0:
        return np.zeros(length, np.float32)
    if source.size == length:
        return source.copy()
    frame = max(16, int(0.03 * rate)) // 2 * 2
    hop = frame // 2
    tolerance = int(0.01 * rate)
    if source.size < frame + 2 * tolerance or length < frame:
        # Too short to overlap: resample the few samples there are (pitch shifts, briefly).
        positions = np.linspace(0, source.size - 1, length)
        return np.interp(positions, np.arange(source.size), source).astype(np.float32)
    padded = np.concatenate([np.zeros(tolerance, np.float32), source, np.zeros(frame + tolerance)])
    window = np.hanning(frame).astype(np.float32)
    out = np.zeros(length + frame, np.float32)
    norm = np.zeros(length + frame, np.float32)
    speed = (source.size - frame) / max(1, length - frame)
    previous = 0
    for out_pos in range(0, length, hop):
        ideal = round(out_pos * speed)
        if out_pos == 0:
            start = ideal
        else:
            natural = previous + hop
            target = padded[tolerance + natural : tolerance + natural + frame]
            region = padded[ideal : ideal + frame + 2 * tolerance]
            if target.size < frame or region.size < frame + 2 * tolerance:
                start = ideal
            else:
                scores = np.correlate(region, target, mode="valid")
                start = ideal - tolerance + int(np.argmax(scores))
        start = int(np.clip(start, 0, source.size - 1))
        piece = padded[tolerance + start : tolerance + start + frame]
        if piece.size < frame:
            piece = np.pad(piece, (0, frame - piece.size))
        out[out_pos : out_pos + frame] += piece * window
        norm[out_pos : out_pos + frame] += window
        previous = start
    norm[norm < 1e-3] = 1.0
    result: Floats = (out / norm)[:length].astype(np.float32)
    return result
