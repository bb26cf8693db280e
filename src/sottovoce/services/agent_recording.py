"""A conversation's recording, in memory: the user on the left, the agent on the right.

Kept only when the conversation will be retained with its audio (the agent's ``record_voice``,
no ``delete_audio``, no redaction). The user's audio is laid down as it arrives (a live client
streams in real time, so its sample count is the call's clock); the agent's audio from the
moment each reply started to play, and an interrupted reply is cut where the user cut it off.
The result is a 16 kHz stereo WAV, capped at the conversation's maximum duration.
"""

from __future__ import annotations

import struct

import numpy as np

from sottovoce.audio.formats import Codec, OutputFormat
from sottovoce.audio.pcm import TARGET_RATE, FloatArray, PcmEncoding, PcmStream

_ENCODINGS = {
    Codec.PCM_S16LE: PcmEncoding.S16LE,
    Codec.MULAW: PcmEncoding.MULAW,
    Codec.ALAW: PcmEncoding.ALAW,
}


class Recorder:
    def __init__(self, output: OutputFormat | None, max_seconds: float) -> None:
        self._max = int(max_seconds * TARGET_RATE)
        self._user = np.zeros(0, dtype=np.float32)
        self._agent = np.zeros(0, dtype=np.float32)
        encoding = _ENCODINGS.get(output.codec) if output is not None else None
        self._decoder = (
            PcmStream(output.sample_rate, encoding)
            if output is not None and encoding is not None
            else None
        )
        self._cursor = 0
        """Where the agent's next audio goes, in samples."""

    def user(self, samples: FloatArray) -> None:
        room = self._max - self._user.size
        if room > 0:
            self._user = np.concatenate([self._user, samples[:room]])

    def reply_starts(self, at_s: float) -> None:
        self._cursor = max(self._cursor, int(at_s * TARGET_RATE))

    def agent(self, data: bytes) -> None:
        if self._decoder is None or not data:
            return
        samples = self._decoder.push(data)
        end = min(self._cursor + samples.size, self._max)
        if end <= self._cursor:
            return
        if self._agent.size < end:
            self._agent = np.pad(self._agent, (0, end - self._agent.size))
        self._agent[self._cursor : end] = samples[: end - self._cursor]
        self._cursor = end

    def cut(self, at_s: float) -> None:
        """The user interrupted at ``at_s``: the agent's audio after it was never heard."""
        cut = int(at_s * TARGET_RATE)
        if self._agent.size > cut:
            self._agent[cut:] = 0.0
        self._cursor = min(self._cursor, max(cut, 0))

    def wav(self) -> bytes:
        length = max(self._user.size, self._agent.size)
        stereo = np.zeros((length, 2), dtype=np.float32)
        stereo[: self._user.size, 0] = self._user
        stereo[: self._agent.size, 1] = self._agent
        pcm = (stereo.clip(-1, 1) * 32767).astype("<i2").tobytes()
        header = (
            b"RIFF"
            + struct.pack("<I", 36 + len(pcm))
            + b"WAVEfmt "
            + struct.pack("<IHHIIHH", 16, 1, 2, TARGET_RATE, TARGET_RATE * 4, 4, 16)
            + b"data"
            + struct.pack("<I", len(pcm))
        )
        return header + pcm

    def clear(self) -> None:
        self._user = self._agent = np.zeros(0, dtype=np.float32)
