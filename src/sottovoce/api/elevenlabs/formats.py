"""ElevenLabs' ``output_format`` names (``mp3_44100_128``, ``pcm_16000``, ``ulaw_8000``...)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from sottovoce.api.params import one_of
from sottovoce.audio.formats import Codec, OutputFormat
from sottovoce.errors import InvalidRequest

_PCM_RATES = (8000, 16000, 22050, 24000, 32000, 44100, 48000)
_BITRATES = (32, 64, 96, 128, 192)

FORMATS: dict[str, OutputFormat] = {
    "ulaw_8000": OutputFormat(Codec.MULAW, 8000, name="ulaw_8000"),
    "alaw_8000": OutputFormat(Codec.ALAW, 8000, name="alaw_8000"),
    "mp3_22050_32": OutputFormat(Codec.MP3, 22050, 32_000, "mp3_22050_32"),
    "mp3_24000_48": OutputFormat(Codec.MP3, 24000, 48_000, "mp3_24000_48"),
    **{
        f"mp3_44100_{kbps}": OutputFormat(Codec.MP3, 44100, kbps * 1000, f"mp3_44100_{kbps}")
        for kbps in _BITRATES
    },
    **{
        f"opus_48000_{kbps}": OutputFormat(Codec.OPUS, 48000, kbps * 1000, f"opus_48000_{kbps}")
        for kbps in _BITRATES
    },
    **{f"pcm_{r}": OutputFormat(Codec.PCM_S16LE, r, name=f"pcm_{r}") for r in _PCM_RATES},
    **{f"wav_{r}": OutputFormat(Codec.WAV, r, name=f"wav_{r}") for r in _PCM_RATES},
}
DEFAULT = "mp3_44100_128"
FORMAT_ENUM = one_of(FORMATS)
"""``output_format`` in the OpenAPI document."""
OutputFormatQuery = Annotated[
    str | None, Query(alias="output_format", json_schema_extra=FORMAT_ENUM)
]
"""The ``?output_format=`` of a route (checked by :func:`output_format`)."""


def output_format(value: str | None) -> OutputFormat:
    fmt = FORMATS.get(value or DEFAULT)
    if fmt is None:
        raise InvalidRequest(
            "Unsupported output_format; supported: " + ", ".join(FORMATS),
            fields=("output_format",),
        )
    return fmt
