"""Errors as ElevenLabs' SDK sees them: ``{"detail": {"status", "message"}}``.

The SDK raises ``ApiError(status_code, body)`` with the parsed body; ElevenLabs puts a
machine-readable ``status`` and a ``message`` under ``detail``. sottovoce's own ``error`` object
rides along, so a client of several surfaces reads the same stable code everywhere.
"""

from __future__ import annotations

from typing import Any

from sottovoce.api.surface import error_schema, sottovoce_error
from sottovoce.errors import SottovoceError


def error_shape(exc: SottovoceError, request_id: str | None) -> dict[str, Any]:
    detail: dict[str, Any] = {"status": exc.code, "message": exc.message, "request_id": request_id}
    if exc.fields:
        detail["fields"] = list(exc.fields)
    return {"detail": detail, **sottovoce_error(exc, request_id)}


ERROR_SCHEMA = error_schema(
    {
        "detail": {
            "type": "object",
            "required": ["status", "message", "request_id"],
            "properties": {
                "status": {"type": "string"},
                "message": {"type": "string"},
                "request_id": {"type": ["string", "null"]},
                "fields": {"type": "array", "items": {"type": "string"}},
            },
        }
    }
)
