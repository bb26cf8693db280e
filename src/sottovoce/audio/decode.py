"""Uploaded audio to 16 kHz mono float32, entirely in memory.

Any container FFmpeg (through PyAV) can read from a ``BytesIO`` is accepted: WAV, MP3, FLAC,
Ogg/Vorbis, Ogg/Opus, WebM, M4A/AAC and more, at any rate and channel count. Raw PCM needs its
rate and encoding declared. The duration limit is enforced while decoding, so a small file that
expands to hours of audio is stopped early. Error messages name the problem, never the content.

A file of two to five channels also keeps each channel on its own (same rate, same format),
so a call recorded with one speaker per channel can be transcribed channel by channel.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

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

SPLIT_CHANNELS_MAX = 5
"""Most channels kept apart (ElevenLabs' limit for ``use_multi_channel``)."""


@dataclass(frozen=True)
class DecodedAudio:
    """Mono float32 little-endian samples at 16 kHz, and how long they last."""

    samples: Sensitive[bytes]
    duration: float
    source_channels: int = 1
    """Channels in the upload."""
    channels: tuple[Sensitive[bytes], ...] = field(default=(), repr=False)
    """Each channel alone, like ``samples``, when the upload has 2 to 5 of them; else empty."""

    @property
    def sample_rate(self) -> int:
        return TARGET_RATE

    def array(self) -> FloatArray:
        """The samples as a numpy view (content: keep it inside the engine call)."""
        return np.frombuffer(self.samples.reveal(), dtype="<f4")

    def channel_arrays(self) -> list[FloatArray]:
        """Each channel as a numpy view (empty unless the upload had 2 to 5 channels)."""
        return [np.frombuffer(c.reveal(), dtype="<f4") for c in self.channels]


def _finish(blocks: list[FloatArray], source_channels: int = 1) -> DecodedAudio:
    """Blocks of shape (channels, samples) at 16 kHz: the mix, and each channel when several."""
    whole = (
        np.concatenate(blocks, axis=1).astype("<f4", copy=False)
        if blocks
        else np.zeros((1, 0), dtype="<f4")
    )
    if whole.shape[1] == 0:
        raise InvalidAudio("The audio contains no samples.")
    several = whole.shape[0] > 1
    mix = whole.mean(axis=0, dtype=np.float32) if several else whole[0]
    return DecodedAudio(
        samples=Sensitive(mix.astype("<f4", copy=False).tobytes()),
        duration=whole.shape[1] / TARGET_RATE,
        source_channels=source_channels,
        channels=tuple(Sensitive(row.tobytes()) for row in whole) if several else (),
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
    return _finish([samples.reshape(1, -1), resampler.flush().reshape(1, -1)])


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
        source_channels = stream.codec_context.channels or 1
        # Two to five channels are kept apart (and mixed here); more are mixed by FFmpeg.
        if 2 <= source_channels <= SPLIT_CHANNELS_MAX:
            layout = stream.codec_context.layout
            resampler = av.AudioResampler(format="fltp", layout=layout, rate=TARGET_RATE)
        else:
            resampler = av.AudioResampler(format="flt", layout="mono", rate=TARGET_RATE)
        limit = int(max_seconds * TARGET_RATE)
        blocks: list[FloatArray] = []
        total = 0
        try:
            for frame in container.decode(stream):
                # Some decoders leave the rate on the stream only.
                frame.pts = None
                for out in resampler.resample(frame):
                    blocks.append(_block(out))
                    total += blocks[-1].shape[1]
                if total > limit:
                    raise _too_long(max_seconds)
            blocks.extend(_block(out) for out in resampler.resample(None))
        except av.FFmpegError as exc:
            if not blocks:
                raise InvalidAudio(
                    "The file is not a recognised audio format or is corrupt."
                ) from exc
            # A truncated tail after good audio: keep what decoded, as FFmpeg's tools do.
    if sum(b.shape[1] for b in blocks) > limit:
        raise _too_long(max_seconds)
    return _finish(blocks, source_channels)


def _block(frame: av.AudioFrame) -> FloatArray:
    """A resampled frame as a (channels, samples) float32 array (packed mono is one row)."""
    return frame.to_ndarray().reshape(len(frame.layout.channels), -1).astype(np.float32, copy=False)


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
