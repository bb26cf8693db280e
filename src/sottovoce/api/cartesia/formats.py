"""Cartesia's ``output_format`` objects: ``{"container": "raw", "encoding": "pcm_s16le",
"sample_rate": 16000}``, ``wav`` or ``mp3`` (with ``bit_rate``). SSE and sockets are raw only.

:data:`OUTPUT_FORMAT_SCHEMA` and :data:`RAW_OUTPUT_FORMAT_SCHEMA` say the same for the OpenAPI
document, from the same tables, so that an object valid by the document is one served."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sottovoce.audio.formats import Codec, OutputFormat
from sottovoce.errors import InvalidRequest

_CARTESIA_RAW = {
    "pcm_s16le": Codec.PCM_S16LE,
    "pcm_f32le": Codec.PCM_F32LE,
    "pcm_mulaw": Codec.MULAW,
    "pcm_alaw": Codec.ALAW,
}
_CARTESIA_RATES = (8000, 16000, 22050, 24000, 44100, 48000)
_BIT_RATES = (8_000, 320_000)
_CARTESIA_HELP = (
    "Unsupported output_format; supported: container raw (encoding pcm_s16le, pcm_f32le, "
    "pcm_mulaw, pcm_alaw), wav (pcm_s16le), mp3; sample_rate one of "
    + ", ".join(map(str, _CARTESIA_RATES))
)


def _whole(value: object) -> int | None:
    """An integer as JSON Schema has it (``16000.0`` is one), else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value if isinstance(value, int) else None


def output_format(value: Mapping[str, object] | None, *, raw_only: bool = False) -> OutputFormat:
    if not isinstance(value, Mapping):
        raise InvalidRequest(_CARTESIA_HELP, fields=("output_format",))
    container = value.get("container")
    encoding = value.get("encoding")
    rate = _whole(value.get("sample_rate"))
    if rate is None or rate not in _CARTESIA_RATES:
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
        bit_rate = _whole(value.get("bit_rate", 128_000))
        if bit_rate is None or not _BIT_RATES[0] <= bit_rate <= _BIT_RATES[1]:
            raise InvalidRequest(
                "bit_rate must be an integer between 8000 and 320000.",
                fields=("output_format.bit_rate",),
            )
        return OutputFormat(Codec.MP3, rate, bit_rate, f"mp3_{rate}_{bit_rate // 1000}")
    raise InvalidRequest(_CARTESIA_HELP, fields=("output_format",))


def _container(name: str, required: tuple[str, ...], **properties: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "title": f"{name.capitalize()} output format",
        "required": ["container", "sample_rate", *required],
        "properties": {
            "container": {"const": name},
            "sample_rate": {"type": "integer", "enum": list(_CARTESIA_RATES)},
            **properties,
        },
    }


_RAW = _container("raw", ("encoding",), encoding={"type": "string", "enum": list(_CARTESIA_RAW)})
_WAV = _container("wav", (), encoding={"type": "string", "const": "pcm_s16le"})
_MP3 = _container(
    "mp3",
    (),
    bit_rate={"type": "integer", "minimum": _BIT_RATES[0], "maximum": _BIT_RATES[1]},
)
OUTPUT_FORMAT_SCHEMA: dict[str, Any] = {"oneOf": [_RAW, _WAV, _MP3]}
"""``output_format`` of ``POST /tts/bytes``: raw, WAV (16-bit) or MP3."""
RAW_OUTPUT_FORMAT_SCHEMA: dict[str, Any] = _RAW
"""``output_format`` where only raw samples stream (``POST /tts/sse``)."""
