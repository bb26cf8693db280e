"""Errors as AssemblyAI's API sends them: ``{"error": message}``, the message being what its
SDK shows. AssemblyAI's ``error`` is a string, so sottovoce's stable ``code``, the
``request_id`` and the ``fields`` at fault ride beside it at the top level. On the v3 socket
an error is ``{"type": "Error", "error_code", "error"}`` before the close; ``error_code`` is
AssemblyAI's (4001 not authorized, 3006 input validation, 3008 session expired, 3005 server).
"""

from __future__ import annotations

from typing import Any

from sottovoce import errors
from sottovoce.api.surface import error_schema
from sottovoce.errors import SottovoceError


def error_shape(exc: SottovoceError, request_id: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"error": exc.message, "code": exc.code, "request_id": request_id}
    if exc.fields:
        body["fields"] = list(exc.fields)
    return body


def socket_error_code(exc: SottovoceError) -> int:
    if isinstance(exc, errors.Unauthorized):
        return 4001
    if isinstance(exc, errors.SessionTimeLimit):
        return 3008
    return 3006 if exc.status < 500 else 3005


def socket_error(exc: SottovoceError, request_id: str | None) -> dict[str, Any]:
    return {
        "type": "Error",
        "error_code": socket_error_code(exc),
        "error": exc.message,
        "code": exc.code,
        "request_id": request_id,
    }


ERROR_SCHEMA = error_schema(
    {
        "error": {"type": "string"},
        "code": {"type": "string"},
        "request_id": {"type": ["string", "null"]},
    },
    own_error=False,
)
