"""Errors as Cartesia documents them: ``{"error_code", "title", "message", "request_id"}``,
with sottovoce's own ``error`` object beside them; on the SSE stream the same fields in an
``error`` event."""

from __future__ import annotations

from typing import Any

from sottovoce import errors
from sottovoce.api.surface import error_schema, sottovoce_error
from sottovoce.errors import SottovoceError

# A short title per kind of error, most specific first.
_TITLES: tuple[tuple[type[SottovoceError], str], ...] = (
    (errors.InvalidJson, "Invalid JSON"),
    (errors.InvalidRequest, "Invalid request"),
    (errors.UnsupportedMediaType, "Unsupported media type"),
    (errors.PayloadTooLarge, "Payload too large"),
    (errors.Unauthorized, "Unauthorized"),
    (errors.RetentionRefused, "Refused by the retention policy"),
    (errors.Forbidden, "Forbidden"),
    (errors.UnknownVoice, "Voice not found"),
    (errors.UnknownModel, "Model not found"),
    (errors.NotFound, "Not found"),
    (errors.MethodNotAllowed, "Method not allowed"),
    (errors.Conflict, "Conflict"),
    (errors.TooBusy, "Too many requests"),
    (errors.UpstreamTimeout, "Upstream timeout"),
    (errors.UpstreamFailed, "Upstream error"),
    (errors.EngineUnavailable, "Engine unavailable"),
)


def error_fields(exc: SottovoceError, request_id: str | None) -> dict[str, Any]:
    return {
        "error_code": exc.code,
        "title": next((t for cls, t in _TITLES if isinstance(exc, cls)), "Server error"),
        "message": exc.message,
        "request_id": request_id,
    }


def error_shape(exc: SottovoceError, request_id: str | None) -> dict[str, Any]:
    return {**error_fields(exc, request_id), **sottovoce_error(exc, request_id)}


ERROR_SCHEMA = error_schema(
    {
        "error_code": {"type": "string"},
        "title": {"type": "string"},
        "message": {"type": "string"},
        "request_id": {"type": ["string", "null"]},
    }
)
