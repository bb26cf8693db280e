"""Inworld's ``audioConfig``: ``audioEncoding`` (``LINEAR16``, ``MP3``, ``OGG_OPUS``, ``ALAW``,
``MULAW``, ``FLAC``, ``PCM``, ``WAV``), ``sampleRateHertz`` and ``bitRate``.

``LINEAR16`` and ``WAV`` are 16-bit PCM in a WAV container (as Google's API, which Inworld's
follows, defines ``LINEAR16``); ``PCM`` is the same samples without a header.
"""

from __future__ import annotations

from typing import Any

from sottovoce.audio.formats import Codec, OutputFormat
from sottovoce.errors import InvalidRequest

ENCODINGS: dict[str, Codec] = {
    "LINEAR16": Codec.WAV,
    "WAV": Codec.WAV,
    "PCM": Codec.PCM_S16LE,
    "MP3": Codec.MP3,
    "OGG_OPUS": Codec.OPUS,
    "FLAC": Codec.FLAC,
    "ALAW": Codec.ALAW,
    "MULAW": Codec.MULAW,
}
RATES = (8000, 16000, 22050, 24000, 32000, 44100, 48000)
OPUS_RATES = (8000, 16000, 24000, 48000)
DEFAULT_ENCODING = "MP3"
DEFAULT_RATE = 48000
DEFAULT_BIT_RATE = 128_000
BIT_RATES = (8_000, 320_000)


def output_format(
    encoding: str | None, sample_rate: int | None, bit_rate: int | None
) -> OutputFormat:
    name = (encoding or DEFAULT_ENCODING).upper()
    codec = ENCODINGS.get(name)
    if codec is None:
        raise InvalidRequest(
            "Unsupported audioEncoding; supported: " + ", ".join(ENCODINGS),
            fields=("audioConfig.audioEncoding",),
        )
    rate = sample_rate or DEFAULT_RATE
    rates = OPUS_RATES if codec is Codec.OPUS else RATES
    if rate not in rates:
        raise InvalidRequest(
            f"sampleRateHertz for {name} must be one of " + ", ".join(map(str, rates)),
            fields=("audioConfig.sampleRateHertz",),
        )
    lossy = codec in (Codec.MP3, Codec.OPUS)
    bits = (bit_rate or DEFAULT_BIT_RATE) if lossy else None
    if bits is not None and not BIT_RATES[0] <= bits <= BIT_RATES[1]:
        raise InvalidRequest(
            "bitRate must be from 8000 to 320000.", fields=("audioConfig.bitRate",)
        )
    return OutputFormat(codec, rate, bits, f"{name}_{rate}")


# For the OpenAPI document: what :func:`output_format` serves, from the same tables.
ENCODING_SCHEMA: dict[str, Any] = {"type": "string", "enum": list(ENCODINGS)}
RATE_SCHEMA: dict[str, Any] = {"type": "integer", "enum": list(RATES)}
BIT_RATE_SCHEMA: dict[str, Any] = {
    "type": "integer",
    "minimum": BIT_RATES[0],
    "maximum": BIT_RATES[1],
}
OPUS_RATE_RULE: dict[str, Any] = {
    "if": {"required": ["audioEncoding"], "properties": {"audioEncoding": {"const": "OGG_OPUS"}}},
    "then": {"properties": {"sampleRateHertz": {"enum": list(OPUS_RATES)}}},
}
"""Opus takes fewer rates (a rule on the whole ``audioConfig`` object)."""
