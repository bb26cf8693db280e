"""Deepgram's output audio: ``encoding``, ``container``, ``sample_rate`` and ``bit_rate``.

REST: ``linear16`` (a WAV file, or raw with ``container=none``; 8, 16, 24 (default), 32 or
48 kHz), ``mulaw``/``alaw`` (raw, 8 (default) or 16 kHz), ``mp3`` (22.05 kHz, 32 or 48 kbps;
the default when nothing is asked), ``opus`` (Ogg, 48 kHz), ``flac`` (8-48 kHz) and ``aac``
(22.05 kHz). The socket streams raw ``linear16``, ``mulaw`` or ``alaw`` only.
"""

from __future__ import annotations

from sottovoce.audio.formats import Codec, OutputFormat
from sottovoce.errors import InvalidRequest

_LINEAR_RATES = (8000, 16000, 24000, 32000, 48000)
_G711_RATES = (8000, 16000)
_FLAC_RATES = (8000, 16000, 22050, 24000, 32000, 44100, 48000)
# encoding -> (codec, rates, default rate)
_ENCODINGS: dict[str, tuple[Codec, tuple[int, ...], int]] = {
    "linear16": (Codec.PCM_S16LE, _LINEAR_RATES, 24000),
    "mulaw": (Codec.MULAW, _G711_RATES, 8000),
    "alaw": (Codec.ALAW, _G711_RATES, 8000),
    "mp3": (Codec.MP3, (22050,), 22050),
    "opus": (Codec.OPUS, (48000,), 48000),
    "flac": (Codec.FLAC, _FLAC_RATES, 48000),
    "aac": (Codec.AAC, (22050,), 22050),
}
SOCKET_ENCODINGS = ("linear16", "mulaw", "alaw")
ENCODINGS = tuple(_ENCODINGS)
"""What the REST route speaks."""


def _number(value: str | None, name: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(float(value))
    except ValueError:
        raise InvalidRequest(f"'{name}' must be a number.", fields=(name,)) from None


def output_format(
    encoding: str | None,
    container: str | None,
    sample_rate: str | None,
    bit_rate: str | None,
    *,
    socket: bool = False,
) -> OutputFormat:
    name = (encoding or ("linear16" if socket else "mp3")).lower()
    allowed = SOCKET_ENCODINGS if socket else ENCODINGS
    if name not in allowed:
        raise InvalidRequest(
            "Unsupported encoding; supported: " + ", ".join(allowed), fields=("encoding",)
        )
    codec, rates, default_rate = _ENCODINGS[name]
    rate = _number(sample_rate, "sample_rate") or default_rate
    if rate not in rates:
        raise InvalidRequest(
            f"sample_rate for {name} must be one of " + ", ".join(map(str, rates)),
            fields=("sample_rate",),
        )
    box = (container or "").lower()
    if codec is Codec.PCM_S16LE and not socket and box in ("", "wav"):
        codec = Codec.WAV
    elif box not in ("", "none") and not (box == "ogg" and codec is Codec.OPUS):
        raise InvalidRequest("Unsupported container for this encoding.", fields=("container",))
    bits = None
    if codec is Codec.MP3:
        bits = _number(bit_rate, "bit_rate") or 48000
        if bits not in (32000, 48000):
            raise InvalidRequest("bit_rate for mp3 must be 32000 or 48000.", fields=("bit_rate",))
    elif codec in (Codec.OPUS, Codec.AAC):
        bits = _number(bit_rate, "bit_rate") or (12000 if codec is Codec.OPUS else 48000)
        if not 4000 <= bits <= 650_000:
            raise InvalidRequest("bit_rate is out of range.", fields=("bit_rate",))
    return OutputFormat(codec, rate, bits, f"{name}_{rate}")
