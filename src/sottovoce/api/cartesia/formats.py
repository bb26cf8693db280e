"""Cartesia's ``output_format`` objects: ``{"container": "raw", "encoding": "pcm_s16le",
"sample_rate": 16000}``, ``wav`` or ``mp3`` (with ``bit_rate``). SSE and sockets are raw only."""

from __future__ import annotations

from collections.abc import Mapping

from sottovoce.audio.formats import Codec, OutputFormat
from sottovoce.errors import InvalidRequest

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


def output_format(value: Mapping[str, object] | None, *, raw_only: bool = False) -> OutputFormat:
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
