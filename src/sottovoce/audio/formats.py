"""Output audio formats: one neutral description, and the three vendors' ways to name one.

ElevenLabs names a format with a string (``mp3_44100_128``), OpenAI with ``response_format``
(``mp3``), Cartesia with an object (``{"container": "raw", "encoding": "pcm_s16le",
"sample_rate": 16000}``). Each parser turns its spelling into an :class:`OutputFormat` or raises
:class:`~sottovoce.errors.InvalidRequest` naming the values it supports (never echoing the one
it was sent: a format string is not content, but the rule is simpler without exceptions).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from sottovoce.errors import InvalidRequest


class Codec(StrEnum):
    PCM_S16LE = "pcm_s16le"
    PCM_F32LE = "pcm_f32le"
    MULAW = "mulaw"
    ALAW = "alaw"
    WAV = "wav"
    """Signed 16-bit PCM in a RIFF/WAVE container."""
    MP3 = "mp3"
    OPUS = "opus"
    """Opus in an Ogg container."""
    AAC = "aac"
    """AAC-LC in ADTS frames."""
    FLAC = "flac"


_MEDIA_TYPES: dict[Codec, str] = {
    Codec.PCM_S16LE: "audio/pcm",
    Codec.PCM_F32LE: "audio/pcm",
    Codec.MULAW: "audio/basic",
    Codec.ALAW: "audio/x-alaw-basic",
    Codec.WAV: "audio/wav",
    Codec.MP3: "audio/mpeg",
    Codec.OPUS: "audio/ogg",
    Codec.AAC: "audio/aac",
    Codec.FLAC: "audio/flac",
}


@dataclass(frozen=True)
class OutputFormat:
    codec: Codec
    sample_rate: int
    bit_rate: int | None = None
    """Bits per second, for the lossy codecs."""
    name: str = ""
    """How the client spelled it (a vendor's format name): stored with history items."""

    @property
    def media_type(self) -> str:
        return _MEDIA_TYPES[self.codec]


# ElevenLabs ----------------------------------------------------------------------------

_PCM_RATES = (8000, 16000, 22050, 24000, 32000, 44100, 48000)
_BITRATES = (32, 64, 96, 128, 192)

ELEVENLABS_FORMATS: dict[str, OutputFormat] = {
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
ELEVENLABS_DEFAULT = "mp3_44100_128"


def elevenlabs_format(value: str | None) -> OutputFormat:
    fmt = ELEVENLABS_FORMATS.get(value or ELEVENLABS_DEFAULT)
    if fmt is None:
        raise InvalidRequest(
            "Unsupported output_format; supported: " + ", ".join(ELEVENLABS_FORMATS),
            fields=("output_format",),
        )
    return fmt


# OpenAI --------------------------------------------------------------------------------

OPENAI_FORMATS: dict[str, OutputFormat] = {
    "mp3": OutputFormat(Codec.MP3, 24000, 64_000, "mp3"),
    "opus": OutputFormat(Codec.OPUS, 48000, 32_000, "opus"),
    "aac": OutputFormat(Codec.AAC, 24000, 64_000, "aac"),
    "flac": OutputFormat(Codec.FLAC, 24000, name="flac"),
    "wav": OutputFormat(Codec.WAV, 24000, name="wav"),
    # OpenAI documents raw pcm as 24 kHz signed 16-bit little-endian mono.
    "pcm": OutputFormat(Codec.PCM_S16LE, 24000, name="pcm"),
}


def openai_format(value: str | None) -> OutputFormat:
    fmt = OPENAI_FORMATS.get(value or "mp3")
    if fmt is None:
        raise InvalidRequest(
            "Unsupported response_format; supported: " + ", ".join(OPENAI_FORMATS),
            fields=("response_format",),
        )
    return fmt


# Cartesia ------------------------------------------------------------------------------

_CARTESIA_RAW = {
    "pcm_s16le": Codec.PCM_S16LE,
    "pcm_f32le": Codec.PCM_F32LE,
    "pcm_mulaw": Codec.MULAW,
    "pcm_alaw": Codec.ALAW,
}
_CARTESIA_RATES = (8000, 16000, 22050, 24000, 44100, 48000)
_CARTESIA_HELP = (
    "Unsupported output_format; supported: container raw (encoding pcm_s16le, pcm_f32le, "
    "pcm_mulaw, pcm_alaw), wav (pcm_s16le), mp3; sample_rate one of "
    + ", ".join(map(str, _CARTESIA_RATES))
)


def cartesia_format(value: Mapping[str, object] | None, *, raw_only: bool = False) -> OutputFormat:
    if not isinstance(value, Mapping):
        raise InvalidRequest(_CARTESIA_HELP, fields=("output_format",))
    container = value.get("container")
    encoding = value.get("encoding")
    rate = value.get("sample_rate")
    if not isinstance(rate, int) or isinstance(rate, bool) or rate not in _CARTESIA_RATES:
        raise InvalidRequest(_CARTESIA_HELP, fields=("output_format.sample_rate",))
    if container == "raw" and isinstance(encoding, str) and encoding in _CARTESIA_RAW:
        return OutputFormat(_CARTESIA_RAW[encoding], rate, name=f"raw_{encoding}_{rate}")
    if raw_only:
        raise InvalidRequest(
            "This endpoint streams raw audio only (container raw).", fields=("output_format",)
        )
    if container == "wav" and encoding in (None, "pcm_s16le"):
        return OutputFormat(Codec.WAV, rate, name=f"wav_{rate}")
    if container == "mp3":
        bit_rate = value.get("bit_rate", 128_000)
        if not isinstance(bit_rate, int) or not 8_000 <= bit_rate <= 320_000:
            raise InvalidRequest(
                "bit_rate must be an integer between 8000 and 320000.",
                fields=("output_format.bit_rate",),
            )
        return OutputFormat(Codec.MP3, rate, bit_rate, f"mp3_{rate}_{bit_rate // 1000}")
    raise InvalidRequest(_CARTESIA_HELP, fields=("output_format",))
