"""The Deepgram surface: text-to-speech over REST (``POST /v1/speak``) and its socket
(``WS /v1/speak``), transcription of files (``POST /v1/listen``) and live (``WS /v1/listen``),
as the ``deepgram-sdk`` calls them with its environment pointed here
(``DeepgramClientEnvironment(base="http://host:port", production="ws://host:port", ...)``).

Keys come as ``Authorization: Token``; errors are Deepgram's ``{"err_code", "err_msg",
"request_id"}``.
"""

from __future__ import annotations

from sottovoce.api import keys
from sottovoce.api.deepgram import listen, listen_socket, probes, speak, speak_socket
from sottovoce.api.deepgram.errors import ERROR_SCHEMA, error_shape
from sottovoce.api.surface import Surface

SURFACE = Surface(
    name="deepgram",
    routers=(speak.router, speak_socket.router, listen.router, listen_socket.router),
    key_sources=(keys.authorization("token"),),
    error_shape=error_shape,
    error_schema=ERROR_SCHEMA,
    probes=probes.PROBES,
)
