"""The speaker encoder: librosa's mel features in numpy, and embeddings that tell voices apart."""

from __future__ import annotations

import numpy as np

from sottovoce.engines.hibari import HibariSynthesizer
from sottovoce.engines.speaker import N_MELS, SpeakerEncoder, cosine, log_mel, mel_filterbank
from tests.spoken import resample, speak


def test_the_filterbank_has_slaney_triangles() -> None:
    bank = mel_filterbank()
    assert bank.shape == (N_MELS, 257)
    assert (bank >= 0).all()
    # Slaney normalisation: each triangle's area is about 1 / (its width in Hz) * 2 / 2.
    peaks = bank.argmax(axis=1)
    assert (np.diff(peaks) >= 0).all() and peaks[-1] > 200


def test_features_are_one_row_per_10_ms() -> None:
    features = log_mel(np.zeros(16000, np.float32))
    assert features.shape == (1 + (16000 - 512) // 160, N_MELS)


def test_the_same_voice_is_closer_than_another() -> None:
    encoder = SpeakerEncoder()
    joe = [
        resample(speak(text), 16000).astype(np.float32) / 32768
        for text in ("The garden was quiet this morning.", "Please bring the yellow basket.")
    ]
    first, second = (encoder.embed(x) for x in joe)
    assert abs(float(np.linalg.norm(first)) - 1) < 1e-4
    heart = HibariSynthesizer().render("The garden was quiet this morning.")
    at_16k = np.interp(np.arange(0, heart.size, 1.5), np.arange(heart.size), heart)
    other = encoder.embed(at_16k.astype(np.float32))
    # Measured: Joe and Joe about 0.75, Joe and Heart about 0.4.
    assert cosine(first, second) > 0.65
    assert cosine(first, second) > cosine(first, other) + 0.15
