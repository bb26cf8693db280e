"""Pitch and formant shaping of speech, in numpy, in memory: a voice made higher or lower, and
its vocal tract longer or shorter, after synthesis.

- **Pitch** by ``pitch`` (a ratio): the samples are resampled (FFT) so everything moves by that
  ratio, pitch and formants alike, then time-stretched back to their length (WSOLA,
  :mod:`sottovoce.audio.stretch`), which keeps the new pitch.
- **Formants** by ``formant`` (a ratio; above 1 a shorter vocal tract, smaller-sounding): in
  short-time spectra (40 ms Hann frames, a quarter apart), each frame's spectral envelope (its
  cepstrum liftered below 2 ms, under any voice's pitch period) is warped along the frequency
  axis, and the frame's fine structure (the harmonics) kept: ``|X'(f)| = |X(f)| E(f / w) /
  E(f)`` with ``w = formant / pitch``, since the resampling moved the formants by ``pitch``
  already. Phases are kept.

A shaped chunk is as long as the chunk it came from, so timings (alignment, dialogue turns,
speech-to-speech phrases) stay valid. This is a signal-level effect, not a model: ratios near 1
sound natural; farther out it turns artificial, so the pitch stays within 0.7-1.45, the formants
within 0.8-1.25 and within 0.87-1.15 of the pitch ratio.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sottovoce.audio.stretch import stretch

Floats = npt.NDArray[np.float32]
PITCH_RANGE = (0.7, 1.45)
FORMANT_RANGE = (0.8, 1.25)
WARP_RANGE = (0.87, 1.15)
"""Formants relative to the pitch: ``formant / pitch`` stays within these."""
LIFTER_SECONDS = 0.002


@dataclass(frozen=True)
class Shaping:
    pitch: float = 1.0
    formant: float = 1.0

    @property
    def neutral(self) -> bool:
        return abs(self.pitch - 1.0) < 1e-3 and abs(self.formant - 1.0) < 1e-3

    def clipped(self) -> Shaping:
        """Within the ranges, and the formants at most ``WARP_RANGE`` away from where the
        pitch's resampling puts them (farther, the envelope warp garbles the voicing)."""
        pitch = float(np.clip(self.pitch, *PITCH_RANGE))
        low = max(FORMANT_RANGE[0], pitch * WARP_RANGE[0])
        high = min(FORMANT_RANGE[1], pitch * WARP_RANGE[1])
        return Shaping(pitch, float(np.clip(self.formant, low, high)))


UNSHAPED = Shaping()


def _resample(samples: npt.NDArray[np.float64], length: int) -> npt.NDArray[np.float64]:
    """Band-limited resampling to ``length`` samples (zero-padded or truncated spectrum)."""
    spectrum = np.fft.rfft(samples)
    bins = length // 2 + 1
    if bins <= spectrum.size:
        spectrum = spectrum[:bins]
    else:
        spectrum = np.pad(spectrum, (0, bins - spectrum.size))
    out: npt.NDArray[np.float64] = np.fft.irfft(spectrum, n=length) * (length / samples.size)
    return out


def _warp_envelope(samples: npt.NDArray[np.float64], rate: int, warp: float) -> Floats:
    frame = int(0.04 * rate) // 2 * 2
    hop = frame // 4
    pad = frame
    padded = np.pad(samples, (pad, pad + frame))
    count = 1 + (padded.size - frame) // hop
    window = np.hanning(frame + 1)[:frame]
    index = np.arange(frame)[None, :] + hop * np.arange(count)[:, None]
    spectra = np.fft.rfft(padded[index] * window, axis=1)
    magnitude = np.abs(spectra) + 1e-9
    cepstrum = np.fft.irfft(np.log(magnitude), axis=1)
    cut = max(8, int(LIFTER_SECONDS * rate))
    cepstrum[:, cut : frame - cut + 1] = 0.0
    envelope = np.fft.rfft(cepstrum, axis=1).real  # log envelope
    bins = np.arange(magnitude.shape[1], dtype=np.float64)
    source = np.clip(bins / warp, 0, bins[-1])
    low = np.floor(source).astype(int)
    high = np.minimum(low + 1, bins.size - 1)
    frac = source - low
    warped = envelope[:, low] * (1 - frac) + envelope[:, high] * frac
    if warp > 1:  # above the old band's top: nothing to move there, keep it quiet
        warped[:, bins > bins[-1] * warp] = envelope[:, -1:]
    gain = np.exp(np.clip(warped - envelope, -6.0, 6.0))
    frames = np.fft.irfft(spectra * gain, n=frame, axis=1) * window
    out = np.zeros(padded.size)
    norm = np.zeros(padded.size)
    np.add.at(out, index, frames)
    np.add.at(norm, index, np.broadcast_to(window**2, frames.shape))
    norm[norm < 1e-6] = 1.0
    result: Floats = (out / norm)[pad : pad + samples.size].astype(np.float32)
    return result


def shape(samples: Floats, rate: int, shaping: Shaping) -> Floats:
    """``samples`` (mono float, ``rate`` Hz) with their pitch and formants moved; same length."""
    source = np.asarray(samples, np.float64).reshape(-1)
    if shaping.neutral or source.size < int(0.05 * rate):
        return np.asarray(samples, np.float32).reshape(-1).copy()
    pitch, formant = shaping.clipped().pitch, shaping.clipped().formant
    moved = source
    if abs(pitch - 1.0) >= 1e-3:
        squeezed = _resample(source, max(2, round(source.size / pitch)))
        moved = stretch(squeezed.astype(np.float32), source.size, rate).astype(np.float64)
    warp = formant / pitch
    if abs(warp - 1.0) < 1e-3:
        return moved.astype(np.float32)
    return _warp_envelope(moved, rate, warp)


def shape_pcm(pcm: bytes, rate: int, shaping: Shaping) -> bytes:
    """Signed 16-bit little-endian mono PCM, shaped."""
    if shaping.neutral or not pcm:
        return pcm
    samples: Floats = (np.frombuffer(pcm, "<i2") / 32768).astype(np.float32)
    shaped = shape(samples, rate, shaping)
    return (np.clip(shaped, -1.0, 1.0) * 32767).astype("<i2").tobytes()
