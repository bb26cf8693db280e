"""The OpenAI surface: speech, transcriptions, chat completions (with stored completions) and
the Realtime socket,
as the ``openai`` SDK calls them with ``base_url=".../v1"``.

Keys come as ``Authorization: Bearer``; errors are OpenAI's ``{"error": {...}}`` object with
``param``. ``GET /v1/models`` answers in sottovoce's own listing, which is OpenAI's shape.
"""

from __future__ import annotations

from sottovoce.api import keys
from sottovoce.api.openai import chat, probes, realtime, speech, transcriptions
from sottovoce.api.openai.errors import ERROR_SCHEMA, error_shape
from sottovoce.api.surface import Surface

SURFACE = Surface(
    name="openai",
    routers=(speech.router, transcriptions.router, chat.router, realtime.router),
    key_sources=(keys.authorization("bearer"),),
    error_shape=error_shape,
    error_schema=ERROR_SCHEMA,
    probes=probes.PROBES,
    content_free_routes=frozenset(
        {
            ("GET", "/v1/chat/completions"),
            ("GET", "/v1/chat/completions/{completion_id}"),
            ("GET", "/v1/chat/completions/{completion_id}/messages"),
            ("DELETE", "/v1/chat/completions/{completion_id}"),
        }
    ),
)
