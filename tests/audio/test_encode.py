"""Streaming encoders: real codecs, decoded back with FFmpeg to check format, rate and length."""

import io
import struct

import av
import numpy as np
import pytest

from sottovoce.api.cartesia.formats import output_format as cartesia_format
from sottovoce.api.elevenlabs.formats import FORMATS as ELEVENLABS_FORMATS
from sottovoce.api.openai.formats import FORMATS as OPENAI_FORMATS
from sottovoce.audio.encode import Encoder, encode_all, wav_header
from sottovoce.audio.formats import Codec, OutputFormat
from sottovoce.audio.g711 import mulaw_decode

RATE = 22050


def tone(seconds: float, freq: float = 440.0, rate: int = RATE) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    return (np.sin(2 * np.pi * freq * t) * 12000).astype("<i2").tobytes()


def decode(data: bytes) -> tuple[str, int, np.ndarray]:
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        frames = [f.to_ndarray().reshape(-1) for f in container.decode(stream)]
        return stream.codec_context.name, stream.rate, np.concatenate(frames)


def dominant_frequency(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64)))
    return float(np.argmax(spectrum) * rate / len(samples))


@pytest.mark.parametrize(
    ("fmt", "decoder"),
    [
        (ELEVENLABS_FORMATS["mp3_44100_128"], "mp3float"),
        (ELEVENLABS_FORMATS["mp3_22050_32"], "mp3float"),
        (ELEVENLABS_FORMATS["opus_48000_64"], "opus"),
        (OPENAI_FORMATS["aac"], "aac"),
        (OPENAI_FORMATS["flac"], "flac"),
        (ELEVENLABS_FORMATS["wav_16000"], "pcm_s16le"),
    ],
    ids=lambda v: getattr(v, "name", v),
)
def test_compressed_and_wav_formats_decode_to_the_same_tone(
    fmt: OutputFormat, decoder: str
) -> None:
    data = encode_all(fmt, RATE, [tone(0.5), tone(0.5), tone(0.5)])
    name, rate, samples = decode(data)
    assert name == decoder
    assert rate == fmt.sample_rate
    assert abs(len(samples) / rate - 1.5) < 0.1
    assert abs(dominant_frequency(samples, rate) - 440) < 5


def test_streaming_encoder_emits_audio_before_the_end() -> None:
    for fmt in (ELEVENLABS_FORMATS["mp3_44100_128"], ELEVENLABS_FORMATS["opus_48000_32"]):
        encoder = Encoder(fmt, RATE)
        first = encoder.feed(tone(0.5))
        encoder.finish()
        assert len(first) > 1000, fmt.name


@pytest.mark.parametrize("rate", [8000, 16000, 24000, 44100, 48000])
def test_raw_pcm_is_resampled_to_the_requested_rate(rate: int) -> None:
    fmt = OutputFormat(Codec.PCM_S16LE, rate)
    encoder = Encoder(fmt, RATE)
    body = b"".join(encoder.feed(tone(0.25, 300)) for _ in range(4)) + encoder.finish()
    samples = np.frombuffer(body, "<i2")
    assert abs(len(samples) - rate) <= rate * 0.01
    assert abs(dominant_frequency(samples, rate) - 300) < 3


def test_float_pcm_is_scaled_to_unit_range() -> None:
    fmt = cartesia_format({"container": "raw", "encoding": "pcm_f32le", "sample_rate": 22050})
    body = encode_all(fmt, RATE, [tone(0.2)])
    floats = np.frombuffer(body, "<f4")
    ints = np.frombuffer(tone(0.2), "<i2")
    assert np.allclose(floats, ints / 32768.0, atol=1e-6)


def test_mulaw_telephony_output_is_8khz_and_the_tone_survives() -> None:
    body = encode_all(ELEVENLABS_FORMATS["ulaw_8000"], RATE, [tone(1.0, 500)])
    assert abs(len(body) - 8000) <= 80
    samples = mulaw_decode(np.frombuffer(body, np.uint8))
    assert abs(dominant_frequency(samples, 8000) - 500) < 3


def test_wav_header_is_exact_when_the_length_is_known_and_open_when_streaming() -> None:
    fmt = ELEVENLABS_FORMATS["wav_22050"]
    whole = encode_all(fmt, RATE, [tone(0.1)])
    riff, data_size = struct.unpack("<I", whole[4:8])[0], struct.unpack("<I", whole[40:44])[0]
    assert data_size == len(whole) - 44
    assert riff == len(whole) - 8
    streamed = Encoder(fmt, RATE).feed(tone(0.1))
    assert streamed[:44] == wav_header(22050)
    assert struct.unpack("<I", streamed[40:44])[0] == 0xFFFFFFFF
