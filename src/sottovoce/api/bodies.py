"""Request bodies that routes read by hand, described for the OpenAPI document.

A route that takes an upload reads its ``multipart/form-data`` body itself, in memory
(:mod:`sottovoce.api.multipart`), or streams a raw audio body; FastAPI then knows nothing of
the body. :func:`form_body` and :func:`raw_audio_body` give such a route its ``openapi_extra``:
the fields, their types, which are required, and the binary parts, so that generated clients
and fuzzers can build the request. A form field is text on the wire: a ``boolean`` is sent as
``true`` or ``false``, a number as its digits, an ``object`` as JSON.

Audio parts are described as binary with ``contentMediaType: audio/*``: any container the
server decodes (WAV, MP3, FLAC, Ogg, WebM, M4A...), or raw PCM where the route says so.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sottovoce.config import VoiceSettings
from sottovoce.engines.languages import STT_LANGUAGES

AUDIO_FILE: dict[str, Any] = {
    "type": "string",
    "format": "binary",
    "contentMediaType": "audio/*",
    "minLength": 1,
    "description": "An audio file (WAV, MP3, FLAC, Ogg, WebM, M4A...).",
}
"""A binary audio part."""

AUDIO_BASE64: dict[str, Any] = {
    "type": "string",
    "contentEncoding": "base64",
    "contentMediaType": "audio/*",
    "minLength": 1,
    "description": "An audio file, base64-encoded.",
}
"""Audio in a JSON body."""

LANGUAGE: dict[str, Any] = {"type": "string", "enum": list(STT_LANGUAGES)}
"""A language to transcribe (the local engine's codes; empty or absent: detected)."""

MOST_SAMPLES: int = VoiceSettings.model_fields["max_samples"].default
"""Most sample files of a voice to match, as shipped (``voices.max_samples``)."""

FLAG: dict[str, Any] = {"type": "boolean"}
"""A true/false form field (``1`` and ``0`` are read too)."""


def number(low: float, high: float, *, integer: bool = False) -> dict[str, Any]:
    """A number form field from ``low`` to ``high``."""
    return {"type": "integer" if integer else "number", "minimum": low, "maximum": high}


def choice(values: Iterable[str]) -> dict[str, Any]:
    """A form field the server checks against a fixed set (in the order given)."""
    return {"type": "string", "enum": list(values)}


def files(part: dict[str, Any], most: int) -> dict[str, Any]:
    """The same part sent one to ``most`` times."""
    return {"type": "array", "items": part, "minItems": 1, "maxItems": most}


def form_body(
    properties: dict[str, dict[str, Any]],
    required: Iterable[str] = (),
    rules: Iterable[dict[str, Any]] = (),
) -> dict[str, Any]:
    """``openapi_extra`` of a route reading a multipart form: its fields (``properties``), the
    ``required`` ones, and ``rules`` between fields (JSON Schema ``if``/``then`` objects)."""
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if needed := list(required):
        schema["required"] = needed
    if checks := list(rules):
        schema["allOf"] = checks
    return {
        "requestBody": {
            "required": True,
            "content": {"multipart/form-data": {"schema": schema}},
        }
    }


def raw_audio_body(media_type: str = "application/octet-stream") -> dict[str, Any]:
    """``openapi_extra`` of a route whose body is the audio itself."""
    schema = {k: v for k, v in AUDIO_FILE.items() if k != "description"}
    return {
        "requestBody": {
            "required": True,
            "description": AUDIO_FILE["description"],
            "content": {media_type: {"schema": schema}},
        }
    }
