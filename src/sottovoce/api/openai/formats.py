"""OpenAI's ``response_format`` names for speech (``mp3``, ``opus``, ``aac``, ``flac``,
``wav``, ``pcm``)."""

from __future__ import annotations

from sottovoce.audio.formats import Codec, OutputFormat
from sottovoce.errors import InvalidRequest

FORMATS: dict[str, OutputFormat] = {
    "mp3": OutputFormat(Codec.MP3, 24000, 64_000, "mp3"),
    "opus": OutputFormat(Codec.OPUS, 48000, 32_000, "opus"),
    "aac": OutputFormat(Codec.AAC, 24000, 64_000, "aac"),
    "flac": OutputFormat(Codec.FLAC, 24000, name="flac"),
    "wav": OutputFormat(Codec.WAV, 24000, name="wav"),
    # OpenAI documents raw pcm as 24 kHz signed 16-bit little-endian mono.
    "pcm": OutputFormat(Codec.PCM_S16LE, 24000, name="pcm"),
}


def output_format(value: str | None) -> OutputFormat:
    fmt = FORMATS.get(value or "mp3")
    if fmt is None:
        raise InvalidRequest(
            "Unsupported response_format; supported: " + ", ".join(FORMATS),
            fields=("response_format",),
        )
    return fmt
