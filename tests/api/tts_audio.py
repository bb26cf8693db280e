"""Checks that a reply is real speech: it decodes, has the right format and rate, and lasts
about as long as the text takes to say."""

from __future__ import annotations

import io

import av
import numpy as np

# Piper's joe voice speaks about 14-17 characters per second.
MIN_CHARS_PER_SECOND = 7.0
MAX_CHARS_PER_SECOND = 30.0


def decode(data: bytes) -> tuple[str, int, np.ndarray]:
    """Codec name, sample rate and mono samples (float) of an encoded file."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        samples = np.concatenate(
            [f.to_ndarray().reshape(-1).astype(np.float64) for f in container.decode(stream)]
        )
        return stream.codec_context.name, stream.rate, samples


def assert_speech(samples: np.ndarray, rate: int, text: str) -> None:
    seconds = len(samples) / rate
    assert len(text) / MAX_CHARS_PER_SECOND < seconds < len(text) / MIN_CHARS_PER_SECOND + 0.8
    peak = float(np.max(np.abs(samples)))
    assert peak > 0
    # Speech: loud syllables and quiet gaps, not a flat tone or silence.
    frame = rate // 20
    frames = samples[: len(samples) // frame * frame].reshape(-1, frame)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    assert rms.max() > 0.1 * peak
    assert np.percentile(rms, 10) < 0.25 * rms.max()


def pcm16(data: bytes) -> np.ndarray:
    return np.frombuffer(data, "<i2").astype(np.float64)


def heard(url: str, api_key: str, audio: bytes, filename: str = "a.wav") -> str:
    """What the server's own STT hears in ``audio`` (transcribed in the key's workspace)."""
    import httpx

    response = httpx.post(
        f"{url}/v1/speech-to-text",
        headers={"xi-api-key": api_key},
        data={"model_id": "scribe_v1", "language_code": "en"},
        files={"file": (filename, audio, "application/octet-stream")},
        timeout=120,
    )
    assert response.status_code == 200, response.text
    text: str = response.json()["text"]
    return text
