"""Uploaded audio to 16 kHz mono float32, entirely in memory.

Any container FFmpeg (through PyAV) can read from a ``BytesIO`` is accepted: WAV, MP3, FLAC,
Ogg/Vorbis, Ogg/Opus, WebM, M4A/AAC and more, at any rate and channel count. Raw PCM needs its
rate and encoding declared. The duration limit is enforced while decoding, so a small file that
expands to hours of audio is stopped early. Error messages name the problem, never the content.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import av
import numpy as np

from sottovoce.audio.pcm import (
    TARGET_RATE,
    FloatArray,
    PcmEncoding,
    Resampler,
    pcm_to_float,
    validate_format,
)
from sottovoce.errors import AudioTooLong, InvalidAudio
from sottovoce.privacy.sensitive import Sensitive


@dataclass(frozen=True)
class DecodedAudio:
    """Mono float32 little-endian samples at 16 kHz, and how long they last."""

    samples: Sensitive[bytes]
    duration: float

    @property
    def sample_rate(self) -> int:
        return TARGET_RATE

    def array(self) -> FloatArray:
        """The samples as a numpy view (content: keep it inside the engine call)."""
        return np.frombuffer(self.samples.reveal(), dtype="<f4")


def _finish(chunks: list[FloatArray]) -> DecodedAudio:
    samples = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
    if samples.size == 0:
        raise InvalidAudio("The audio contains no samples.")
    return DecodedAudio(
        samples=Sensitive(samples.astype("<f4").tobytes()),
        duration=samples.size / TARGET_RATE,
    )


def _too_long(max_seconds: float) -> AudioTooLong:
    return AudioTooLong(f"The audio is longer than the limit of {max_seconds:g} seconds.")


def decode_raw(
    data: Sensitive[bytes],
    *,
    sample_rate: int,
    encoding: PcmEncoding = PcmEncoding.S16LE,
    channels: int = 1,
    max_seconds: float,
) -> DecodedAudio:
    """Headerless PCM with a declared rate, encoding and channel count."""
    validate_format(sample_rate, channels)
    raw = data.reveal()
    frame_bytes = encoding.sample_width * channels
    if len(raw) % frame_bytes:
        raise InvalidAudio(
            f"The raw audio length is not a whole number of {encoding.value} frames."
        )
    if len(raw) / frame_bytes / sample_rate > max_seconds:
        raise _too_long(max_seconds)
    resampler = Resampler(sample_rate)
    samples = resampler.push(pcm_to_float(raw, encoding, channels))
    return _finish([samples, resampler.flush()])


def decode_container(data: Sensitive[bytes], *, max_seconds: float) -> DecodedAudio:
    """The first audio stream of any container PyAV reads, decoded from memory."""
    raw = data.reveal()
    if not raw:
        raise InvalidAudio("The uploaded file is empty.")
    try:
        container = av.open(io.BytesIO(raw), mode="r")
    except (av.FFmpegError, ValueError, OSError) as exc:
        raise InvalidAudio("The file is not a recognised audio format or is corrupt.") from exc
    with container:
        if not container.streams.audio:
            raise InvalidAudio("The file has no audio stream.")
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout="mono", rate=TARGET_RATE)
        limit = int(max_seconds * TARGET_RATE)
        chunks: list[FloatArray] = []
        total = 0
        try:
            for frame in container.decode(stream):
                # Some decoders leave the rate on the stream only.
                frame.pts = None
                for out in resampler.resample(frame):
                    chunk = out.to_ndarray().reshape(-1).astype(np.float32, copy=False)
                    chunks.append(chunk)
                    total += chunk.size
                if total > limit:
                    raise _too_long(max_seconds)
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1).astype(np.float32, copy=False))
        except av.FFmpegError as exc:
            if not chunks:
                raise InvalidAudio(
                    "The file is not a recognised audio format or is corrupt."
                ) from exc
            # A truncated tail after good audio: keep what decoded, as FFmpeg's tools do.
    if sum(c.size for c in chunks) > limit:
        raise _too_long(max_seconds)
    return _finish(chunks)


def decode_audio(
    data: Sensitive[bytes],
    *,
    max_seconds: float,
    raw_sample_rate: int | None = None,
    raw_encoding: PcmEncoding = PcmEncoding.S16LE,
    raw_channels: int = 1,
) -> DecodedAudio:
    """A container, or raw PCM when the caller declares its rate."""
    if raw_sample_rate is not None:
        return decode_raw(
            data,
            sample_rate=raw_sample_rate,
            encoding=raw_encoding,
            channels=raw_channels,
            max_seconds=max_seconds,
        )
    return decode_container(data, max_seconds=max_seconds)
