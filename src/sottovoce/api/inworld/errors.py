"""Errors as Inworld's API sends them: a gRPC status, ``{"code", "message", "details"}``.

``code`` is the gRPC code (3 invalid argument, 5 not found, 16 unauthenticated...); the stable
sottovoce code is the ``reason`` of an ``ErrorInfo`` detail, and sottovoce's own ``error`` object
rides along. The ``inworld-tts`` SDK raises ``ApiError`` with the top-level ``message``. On the
streaming endpoint a failure after the first line is one line ``{"error": {status}}``.
"""

from __future__ import annotations

from typing import Any

from sottovoce import errors
from sottovoce.api.surface import error_schema, sottovoce_error
from sottovoce.errors import SottovoceError

# The gRPC code of each kind of error, most specific first.
_GRPC_CODES: tuple[tuple[type[SottovoceError], int], ...] = (
    (errors.InvalidRequest, 3),
    (errors.InvalidJson, 3),
    (errors.UnsupportedMediaType, 3),
    (errors.PayloadTooLarge, 3),
    (errors.UpstreamTimeout, 4),
    (errors.NotFound, 5),
    (errors.UnknownModel, 5),
    (errors.UnknownVoice, 5),
    (errors.Forbidden, 7),
    (errors.RetentionRefused, 7),
    (errors.Conflict, 9),
    (errors.TooBusy, 8),  # RESOURCE_EXHAUSTED
    (errors.MethodNotAllowed, 12),
    (errors.EngineUnavailable, 14),
    (errors.UpstreamFailed, 14),
    (errors.Unauthorized, 16),
)
INTERNAL = 13


def status(exc: SottovoceError, request_id: str | None) -> dict[str, Any]:
    """The gRPC status of an error."""
    code = next((c for cls, c in _GRPC_CODES if isinstance(exc, cls)), INTERNAL)
    metadata: dict[str, Any] = {"request_id": request_id or ""}
    if exc.fields:
        metadata["fields"] = ",".join(exc.fields)
    detail = {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": exc.code,
        "domain": "sottovoce",
        "metadata": metadata,
    }
    return {"code": code, "message": exc.message, "details": [detail]}


def error_shape(exc: SottovoceError, request_id: str | None) -> dict[str, Any]:
    return {**status(exc, request_id), **sottovoce_error(exc, request_id)}


ERROR_SCHEMA = error_schema(
    {
        "code": {"type": "integer"},
        "message": {"type": "string"},
        "details": {"type": "array", "items": {"type": "object"}},
    }
)
