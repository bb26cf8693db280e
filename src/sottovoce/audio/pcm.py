"""Raw PCM in, 16 kHz mono float32 out: the one shape the speech engines read.

Telephony companding (mu-law, A-law) is decoded with lookup tables; every other encoding is a
plain numpy view. Resampling keeps its state between calls, so a stream fed in arbitrary pieces
comes out the same as the whole signal resampled at once.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

import av
import numpy as np
import numpy.typing as npt

from sottovoce.errors import InvalidAudio

TARGET_RATE: Final = 16_000
"""The sample rate Whisper and the Silero VAD expect."""

MIN_RATE: Final = 4_000
MAX_RATE: Final = 192_000
MAX_CHANNELS: Final = 8

FloatArray = npt.NDArray[np.float32]


class PcmEncoding(StrEnum):
    """Raw sample encodings accepted without a container (little-endian, interleaved)."""

    S16LE = "pcm_s16le"
    S32LE = "pcm_s32le"
    F16LE = "pcm_f16le"
    F32LE = "pcm_f32le"
    MULAW = "pcm_mulaw"
    ALAW = "pcm_alaw"

    @property
    def sample_width(self) -> int:
        return _WIDTHS[self]


_WIDTHS: Final = {
    PcmEncoding.S16LE: 2,
    PcmEncoding.S32LE: 4,
    PcmEncoding.F16LE: 2,
    PcmEncoding.F32LE: 4,
    PcmEncoding.MULAW: 1,
    PcmEncoding.ALAW: 1,
}


def _mulaw_table() -> FloatArray:
    codes = ~np.arange(256, dtype=np.uint8)
    sign = codes & 0x80
    exponent = (codes >> 4) & 0x07
    mantissa = codes & 0x0F
    magnitude = ((mantissa.astype(np.int32) << 3) + 0x84) << exponent.astype(np.int32)
    values = np.where(sign != 0, 0x84 - magnitude, magnitude - 0x84)
    return (values / 32768.0).astype(np.float32)


def _alaw_table() -> FloatArray:
    codes = np.arange(256, dtype=np.uint8) ^ 0x55
    sign = codes & 0x80
    exponent = ((codes >> 4) & 0x07).astype(np.int32)
    mantissa = (codes & 0x0F).astype(np.int32)
    magnitude = np.where(
        exponent == 0, (mantissa << 4) + 8, ((mantissa << 4) + 0x108) << np.maximum(exponent - 1, 0)
    )
    values = np.where(sign != 0, magnitude, -magnitude)
    return (values / 32768.0).astype(np.float32)


_MULAW: Final = _mulaw_table()
_ALAW: Final = _alaw_table()


def validate_format(sample_rate: int, channels: int) -> None:
    if not MIN_RATE <= sample_rate <= MAX_RATE:
        raise InvalidAudio(
            f"The sample rate must be between {MIN_RATE} and {MAX_RATE} Hz.",
            fields=["sample_rate"],
        )
    if not 1 <= channels <= MAX_CHANNELS:
        raise InvalidAudio(
            f"The channel count must be between 1 and {MAX_CHANNELS}.", fields=["channels"]
        )


def pcm_to_float(data: bytes, encoding: PcmEncoding, channels: int) -> FloatArray:
    """Interleaved raw samples as float32 in [-1, 1], downmixed to mono.

    ``data`` must hold whole frames; callers that receive pieces keep the remainder.
    """
    if encoding is PcmEncoding.S16LE:
        samples = np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0
    elif encoding is PcmEncoding.S32LE:
        samples = (np.frombuffer(data, dtype="<i4") / 2147483648.0).astype(np.float32)
    elif encoding is PcmEncoding.F16LE:
        samples = np.frombuffer(data, dtype="<f2").astype(np.float32)
    elif encoding is PcmEncoding.F32LE:
        samples = np.frombuffer(data, dtype="<f4").astype(np.float32)
    elif encoding is PcmEncoding.MULAW:
        samples = _MULAW[np.frombuffer(data, dtype=np.uint8)]
    else:
        samples = _ALAW[np.frombuffer(data, dtype=np.uint8)]
    if not np.all(np.isfinite(samples)):
        raise InvalidAudio("The raw audio contains samples that are not finite numbers.")
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1, dtype=np.float32)
    return samples


class Resampler:
    """Mono float32 at any rate to mono float32 at 16 kHz, keeping state across calls."""

    def __init__(self, source_rate: int) -> None:
        self.source_rate = source_rate
        self._resampler: av.AudioResampler | None = (
            None
            if source_rate == TARGET_RATE
            else av.AudioResampler(format="flt", layout="mono", rate=TARGET_RATE)
        )

    def push(self, samples: FloatArray) -> FloatArray:
        if self._resampler is None or samples.size == 0:
            return samples
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(samples).reshape(1, -1), format="flt", layout="mono"
        )
        frame.sample_rate = self.source_rate
        return _concat(self._resampler.resample(frame))

    def flush(self) -> FloatArray:
        if self._resampler is None:
            return np.zeros(0, dtype=np.float32)
        return _concat(self._resampler.resample(None))


def _concat(frames: list[av.AudioFrame]) -> FloatArray:
    if not frames:
        return np.zeros(0, dtype=np.float32)
    return np.concatenate([f.to_ndarray().reshape(-1) for f in frames]).astype(np.float32)


class PcmStream:
    """Raw PCM pieces in, 16 kHz mono float32 out (for streaming input such as a WebSocket)."""

    def __init__(self, sample_rate: int, encoding: PcmEncoding, channels: int = 1) -> None:
        validate_format(sample_rate, channels)
        self.encoding = encoding
        self.channels = channels
        self._frame_bytes = encoding.sample_width * channels
        self._remainder = b""
        self._resampler = Resampler(sample_rate)

    def push(self, data: bytes) -> FloatArray:
        buffered = self._remainder + data
        whole = len(buffered) - len(buffered) % self._frame_bytes
        self._remainder = buffered[whole:]
        return self._resampler.push(pcm_to_float(buffered[:whole], self.encoding, self.channels))

    def flush(self) -> FloatArray:
        self._remainder = b""
        return self._resampler.flush()
