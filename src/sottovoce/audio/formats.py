"""Output audio formats: one neutral description of what the encoder must produce.

Each vendor names formats its own way (ElevenLabs ``mp3_44100_128``, OpenAI ``mp3``, Cartesia
an object, Inworld ``audioConfig``); its surface package parses its spelling into an
:class:`OutputFormat` or raises :class:`~sottovoce.errors.InvalidRequest` naming the values it
supports (never echoing the one it was sent: a format string is not content, but the rule is
simpler without exceptions).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


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
