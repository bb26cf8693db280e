"""The AssemblyAI surface: the async API (``POST /v2/upload``, ``/v2/transcript``) and the
Universal-Streaming v3 socket (``WS /v3/ws``), as the ``assemblyai`` SDK calls them with
``aai.settings.base_url = "http://host:port"`` (and the streaming client's ``api_host``).

Keys come as a bare ``Authorization`` header (or ``?token=`` on the socket); errors are
AssemblyAI's ``{"error": message}`` with sottovoce's ``code`` and ``request_id`` beside it.
"""

from __future__ import annotations

from sottovoce.api import keys
from sottovoce.api.assemblyai import probes, streaming, transcripts
from sottovoce.api.assemblyai.errors import ERROR_SCHEMA, error_shape
from sottovoce.api.surface import Surface

SURFACE = Surface(
    name="assemblyai",
    routers=(transcripts.router, streaming.router),
    key_sources=(keys.authorization(""),),
    error_shape=error_shape,
    error_schema=ERROR_SCHEMA,
    probes=probes.PROBES,
    content_free_routes=frozenset(
        {
            ("GET", "/v2/transcript"),
            ("GET", "/v2/transcript/{transcript_id}"),
            ("DELETE", "/v2/transcript/{transcript_id}"),
        }
    ),
)
