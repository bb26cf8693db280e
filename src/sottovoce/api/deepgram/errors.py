"""Errors as Deepgram's API sends them: ``{"err_code", "err_msg", "request_id"}``, with
sottovoce's own ``error`` object beside them (its ``code`` is the stable one). On the speak
socket the same fields come in a ``{"type": "Error", ...}`` message before the close."""

from __future__ import annotations

from typing import Any

from sottovoce import errors
from sottovoce.api.surface import error_schema, sottovoce_error
from sottovoce.errors import SottovoceError

# Deepgram's kind of each error, most specific first.
_ERR_CODES: tuple[tuple[type[SottovoceError], str], ...] = (
    (errors.Unauthorized, "INVALID_AUTH"),
    (errors.RetentionRefused, "INSUFFICIENT_PERMISSIONS"),
    (errors.Forbidden, "INSUFFICIENT_PERMISSIONS"),
    (errors.PayloadTooLarge, "PAYLOAD_TOO_LARGE"),
    (errors.InvalidJson, "INVALID_JSON"),
    (errors.InvalidAudio, "Bad Request"),
    (errors.UnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE"),
    (errors.InvalidRequest, "INVALID_QUERY_PARAMETER"),
    (errors.UnknownModel, "MODEL_NOT_FOUND"),
    (errors.UnknownVoice, "MODEL_NOT_FOUND"),
    (errors.NotFound, "NOT_FOUND"),
    (errors.MethodNotAllowed, "METHOD_NOT_ALLOWED"),
    (errors.TooManyContexts, "TOO_MANY_REQUESTS"),
    (errors.TooBusy, "TOO_MANY_REQUESTS"),
    (errors.InactivityTimeout, "NET-0001"),
    (errors.UpstreamTimeout, "GATEWAY_TIMEOUT"),
    (errors.UpstreamFailed, "BAD_GATEWAY"),
    (errors.Conflict, "CONFLICT"),
)


def error_fields(exc: SottovoceError, request_id: str | None) -> dict[str, Any]:
    code = next((c for cls, c in _ERR_CODES if isinstance(exc, cls)), "INTERNAL_SERVER_ERROR")
    return {"err_code": code, "err_msg": exc.message, "request_id": request_id}


def error_shape(exc: SottovoceError, request_id: str | None) -> dict[str, Any]:
    return {**error_fields(exc, request_id), **sottovoce_error(exc, request_id)}


ERROR_SCHEMA = error_schema(
    {
        "err_code": {"type": "string"},
        "err_msg": {"type": "string"},
        "request_id": {"type": ["string", "null"]},
    }
)
