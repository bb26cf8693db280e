"""Streaming encoders: 16-bit PCM from an engine in, the client's format out, all in memory.

An :class:`Encoder` is fed PCM chunks as the engine makes them and returns the encoded bytes
ready so far, so a streaming response can send the first audio before the text is finished.
Resampling to the requested rate happens here (FFmpeg's swresample through PyAV, stateful so
chunk seams stay clean). Compressed formats go through PyAV muxers writing to an in-memory
sink that cannot seek, which keeps every muxer in its streaming mode: nothing touches disk.
"""

from __future__ import annotations

import struct

import av
import numpy as np
import numpy.typing as npt

from sottovoce.audio.formats import Codec, OutputFormat
from sottovoce.audio.g711 import alaw_encode, mulaw_encode

Int16Array = npt.NDArray[np.int16]

_AV_CODECS: dict[Codec, tuple[str, str, dict[str, str]]] = {
    # codec -> (muxer, encoder, muxer options)
    Codec.MP3: ("mp3", "libmp3lame", {"write_xing": "0"}),
    # Small Ogg pages: the default (1 s) would hold back the first audio for a second.
    Codec.OPUS: ("ogg", "libopus", {"page_duration": "20000"}),
    Codec.AAC: ("adts", "aac", {}),
    Codec.FLAC: ("flac", "flac", {}),
}

STREAMING_WAV_SIZE = 0xFFFFFFFF
"""RIFF and data sizes written when the length is not known yet (as streaming servers do)."""


def wav_header(sample_rate: int, data_bytes: int | None = None) -> bytes:
    """A 44-byte header for mono signed 16-bit PCM; ``None``: length unknown (streaming)."""
    data_size = STREAMING_WAV_SIZE if data_bytes is None else data_bytes
    riff_size = STREAMING_WAV_SIZE if data_bytes is None else 36 + data_bytes
    return (
        b"RIFF"
        + struct.pack("<I", riff_size)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, sample_rate, sample_rate * 2, 2, 16)
        + b"data"
        + struct.pack("<I", data_size)
    )


class _Sink:
    """A write-only, non-seekable file for PyAV muxers: collects what they write."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        out = b"".join(self._parts)
        self._parts.clear()
        return out


class PcmResampler:
    """Stateful mono s16 resampler; a no-op when the rates match."""

    def __init__(self, in_rate: int, out_rate: int) -> None:
        self.in_rate = in_rate
        self._av = (
            None
            if in_rate == out_rate
            else av.AudioResampler(format="s16", layout="mono", rate=out_rate)
        )

    def _frames_to_array(self, frames: list[av.AudioFrame]) -> Int16Array:
        if not frames:
            return np.zeros(0, dtype=np.int16)
        return np.concatenate([f.to_ndarray().reshape(-1) for f in frames]).astype(np.int16)

    def feed(self, pcm: Int16Array) -> Int16Array:
        if self._av is None or pcm.size == 0:
            return pcm
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = self.in_rate
        return self._frames_to_array(self._av.resample(frame))

    def flush(self) -> Int16Array:
        if self._av is None:
            return np.zeros(0, dtype=np.int16)
        return self._frames_to_array(self._av.resample(None))


class Encoder:
    """Encode a stream of mono s16 PCM chunks at ``in_rate`` into ``fmt``.

    ``streaming=True`` writes a WAV header with an unknown length; ``False`` lets the caller
    use :func:`encode_all`, which knows the length and writes an exact header.
    """

    def __init__(self, fmt: OutputFormat, in_rate: int) -> None:
        self.format = fmt
        self._resampler = PcmResampler(in_rate, fmt.sample_rate)
        self._header_sent = False
        self.samples_out = 0
        self._container: av.container.OutputContainer | None = None
        self._stream: av.audio.stream.AudioStream | None = None
        self._sink = _Sink()
        if fmt.codec in _AV_CODECS:
            muxer, encoder, options = _AV_CODECS[fmt.codec]
            self._container = av.open(self._sink, "w", format=muxer, options=options)
            stream = self._container.add_stream(encoder, rate=fmt.sample_rate, layout="mono")
            assert isinstance(stream, av.audio.stream.AudioStream)
            if fmt.bit_rate:
                stream.bit_rate = fmt.bit_rate
            self._stream = stream

    @property
    def duration_seconds(self) -> float:
        return self.samples_out / self.format.sample_rate

    def feed(self, pcm: bytes) -> bytes:
        """Encoded bytes for this chunk of PCM (possibly empty while an encoder buffers)."""
        return self._encode(self._resampler.feed(np.frombuffer(pcm, dtype=np.int16)))

    def finish(self) -> bytes:
        """The rest: resampler tail, encoder flush, container trailer."""
        out = self._encode(self._resampler.flush())
        if self._container is not None and self._stream is not None:
            for packet in self._stream.encode(None):
                self._container.mux(packet)
            self._container.close()
            self._container = None
            out += self._sink.take()
        elif not self._header_sent:
            out = self._encode(np.zeros(0, dtype=np.int16)) + out
        return out

    def close(self) -> None:
        """Release the encoder without finishing (client went away)."""
        if self._container is not None:
            self._container.close()
            self._container = None
            self._sink.take()

    def _encode(self, samples: Int16Array) -> bytes:
        self.samples_out += int(samples.size)
        codec = self.format.codec
        if codec is Codec.PCM_S16LE:
            return samples.astype("<i2").tobytes()
        if codec is Codec.PCM_F32LE:
            return (samples.astype("<f4") / 32768.0).astype("<f4").tobytes()
        if codec is Codec.MULAW:
            return mulaw_encode(samples).tobytes()
        if codec is Codec.ALAW:
            return alaw_encode(samples).tobytes()
        if codec is Codec.WAV:
            header = b"" if self._header_sent else wav_header(self.format.sample_rate)
            self._header_sent = True
            return header + samples.astype("<i2").tobytes()
        return self._encode_av(samples)

    def _encode_av(self, samples: Int16Array) -> bytes:
        assert self._container is not None
        assert self._stream is not None
        if samples.size:
            frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
            frame.sample_rate = self.format.sample_rate
            for packet in self._stream.encode(frame):
                self._container.mux(packet)
        return self._sink.take()


def encode_all(fmt: OutputFormat, in_rate: int, chunks: list[bytes]) -> bytes:
    """A whole file in one go; WAV gets its exact length in the header."""
    encoder = Encoder(fmt, in_rate)
    parts = [encoder.feed(chunk) for chunk in chunks]
    parts.append(encoder.finish())
    body = b"".join(parts)
    if fmt.codec is Codec.WAV:
        data = body[44:]
        return wav_header(fmt.sample_rate, len(data)) + data
    return body
