"""Uploaded audio decodes in memory to 16 kHz mono float32, or fails with a clear 4xx."""

from __future__ import annotations

import numpy as np
import pytest

from sottovoce.audio.decode import decode_audio, decode_container, decode_raw
from sottovoce.audio.pcm import TARGET_RATE, PcmEncoding, PcmStream
from sottovoce.errors import AudioTooLong, InvalidAudio
from sottovoce.privacy.sensitive import Sensitive
from tests.spoken import FORMATS, Clip, encode, resample

RATE = 22050


@pytest.fixture(scope="module")
def tone() -> Clip:
    """1.5 s of a 440 Hz tone with a 4 Hz amplitude wobble: enough structure to compare."""
    t = np.arange(int(1.5 * RATE)) / RATE
    wave = 0.5 * np.sin(2 * np.pi * 440 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 4 * t))
    return Clip((wave * 32767).astype(np.int16), RATE)


def envelope(samples: np.ndarray, rate: int) -> np.ndarray:
    """RMS per 50 ms: robust to codec delay and phase, sensitive to wrong rate or scaling."""
    hop = rate // 20
    n = samples.size // hop
    return np.sqrt((samples[: n * hop].reshape(n, hop) ** 2).mean(axis=1))


def reference(clip: Clip) -> np.ndarray:
    return resample(clip, TARGET_RATE).astype(np.float32) / 32768.0


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize("channels", [1, 2])
def test_every_container_decodes_to_16k_mono(tone: Clip, fmt: str, channels: int) -> None:
    data = encode(tone, fmt, channels)
    decoded = decode_container(Sensitive(data), max_seconds=60)
    assert decoded.sample_rate == TARGET_RATE
    assert decoded.duration == pytest.approx(tone.duration, abs=0.08)
    got = envelope(decoded.array(), TARGET_RATE)
    want = envelope(reference(tone), TARGET_RATE)
    n = min(got.size, want.size) - 4
    # Same loudness contour (a stereo downmix may scale by up to sqrt(2)).
    ratio = np.median(got[2:n] / want[2:n])
    assert 0.6 < ratio < 1.5
    assert np.corrcoef(got[2:n], want[2:n])[0, 1] > 0.9


@pytest.mark.parametrize(
    ("encoding", "dtype", "scale"),
    [
        (PcmEncoding.S16LE, "<i2", 32768),
        (PcmEncoding.S32LE, "<i4", 2**31),
        (PcmEncoding.F32LE, "<f4", 1),
        (PcmEncoding.F16LE, "<f2", 1),
    ],
)
@pytest.mark.parametrize("rate", [8000, 16000, 44100])
def test_raw_pcm_with_a_declared_rate(
    tone: Clip, encoding: PcmEncoding, dtype: str, scale: int, rate: int
) -> None:
    signal = resample(tone, rate).astype(np.float64) / 32768.0
    raw = (signal * scale * 0.999).astype(dtype).tobytes()
    decoded = decode_raw(Sensitive(raw), sample_rate=rate, encoding=encoding, max_seconds=60)
    assert decoded.duration == pytest.approx(tone.duration, abs=0.01)
    want = reference(tone)
    n = min(want.size, decoded.array().size) - 200
    assert np.abs(decoded.array()[200:n] - want[200:n] * 0.999).max() < 0.02


def _wav_data_chunk(wav: bytes) -> bytes:
    start = wav.index(b"data") + 8
    size = int.from_bytes(wav[start - 4 : start], "little")
    return wav[start : start + size]


@pytest.mark.parametrize(
    ("fmt", "encoding"), [("wav-mulaw-8k", "pcm_mulaw"), ("wav-alaw-8k", "pcm_alaw")]
)
def test_telephony_companding_matches_ffmpeg(tone: Clip, fmt: str, encoding: str) -> None:
    wav = encode(tone, fmt)
    ours = decode_raw(
        Sensitive(_wav_data_chunk(wav)),
        sample_rate=8000,
        encoding=PcmEncoding(encoding),
        max_seconds=60,
    )
    ffmpeg = decode_container(Sensitive(wav), max_seconds=60)
    assert ours.array().size == ffmpeg.array().size
    assert np.abs(ours.array() - ffmpeg.array()).max() < 1e-3


def test_stereo_raw_pcm_is_downmixed(tone: Clip) -> None:
    stereo = resample(tone, 16000, channels=2)
    decoded = decode_raw(
        Sensitive(stereo.astype("<i2").tobytes()), sample_rate=16000, channels=2, max_seconds=60
    )
    assert decoded.duration == pytest.approx(tone.duration, abs=0.01)


def test_streamed_pieces_equal_the_whole(tone: Clip) -> None:
    raw = resample(tone, 44100).astype("<i2").tobytes()
    whole = decode_raw(Sensitive(raw), sample_rate=44100, max_seconds=60).array()
    stream = PcmStream(44100, PcmEncoding.S16LE)
    # Odd piece sizes split samples in half: the remainder must carry over.
    pieces = [stream.push(raw[i : i + 3001]) for i in range(0, len(raw), 3001)]
    streamed = np.concatenate([*pieces, stream.flush()])
    assert streamed.size == whole.size
    assert np.abs(streamed - whole).max() < 1e-4


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"this is plainly not audio " * 40,
        b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8,
        b"RIFF\x24\x00\x00\x00WAVEfmt ",
    ],
    ids=["empty", "text", "png", "truncated-wav-header"],
)
def test_non_audio_is_a_422_naming_the_problem(data: bytes) -> None:
    with pytest.raises(InvalidAudio) as info:
        decode_audio(Sensitive(data), max_seconds=60)
    assert (info.value.status, info.value.code) == (422, "invalid_audio")


def test_a_truncated_file_keeps_what_decoded(tone: Clip) -> None:
    mp3 = encode(tone, "mp3")
    decoded = decode_container(Sensitive(mp3[: len(mp3) // 2]), max_seconds=60)
    assert 0.3 < decoded.duration < tone.duration


def test_duration_limit_is_a_413(tone: Clip) -> None:
    with pytest.raises(AudioTooLong) as info:
        decode_container(Sensitive(encode(tone, "flac")), max_seconds=1.0)
    assert info.value.status == 413
    with pytest.raises(AudioTooLong):
        decode_raw(Sensitive(tone.pcm()), sample_rate=RATE, max_seconds=1.0)


@pytest.mark.parametrize(
    ("rate", "channels", "data"),
    [
        (16000, 1, b"\x00\x01\x02"),
        (100, 1, b"\x00\x00"),
        (16000, 0, b"\x00\x00"),
        (16000, 2, b"\0\0"),
    ],
    ids=["half-sample", "rate-too-low", "no-channels", "half-frame"],
)
def test_bad_raw_pcm_is_a_422(rate: int, channels: int, data: bytes) -> None:
    with pytest.raises(InvalidAudio):
        decode_raw(Sensitive(data), sample_rate=rate, channels=channels, max_seconds=60)
