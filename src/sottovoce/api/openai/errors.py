"""Errors as OpenAI's SDKs read them: ``{"error": {"message", "type", "param", "code"}}``.

This is sottovoce's own error object with ``param`` (the first field at fault) added; the SDK
raises its typed errors from the status and reads ``code`` and ``message`` from the body.
"""

from __future__ import annotations

from typing import Any

from sottovoce.api.surface import SOTTOVOCE_ERROR_OBJECT, sottovoce_error
from sottovoce.errors import SottovoceError


def error_shape(exc: SottovoceError, request_id: str | None) -> dict[str, Any]:
    body = sottovoce_error(exc, request_id)
    body["error"]["param"] = exc.fields[0] if exc.fields else None
    return body


_ERROR_OBJECT = SOTTOVOCE_ERROR_OBJECT
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            **_ERROR_OBJECT,
            "required": [*_ERROR_OBJECT["required"], "param"],
            "properties": {**_ERROR_OBJECT["properties"], "param": {"type": ["string", "null"]}},
        }
    },
}
