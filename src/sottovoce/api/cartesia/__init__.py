"""The Cartesia surface: TTS bytes, SSE and socket, file and streaming STT, voices and
approximate voice matching (``/voices/clone``), as the ``cartesia`` SDKs (4.x and the older 2.x)
call them.

Keys come as ``Authorization: Bearer`` (4.x), ``X-API-Key`` (2.x) or the ``api_key`` query
parameter (sockets); errors carry Cartesia's ``error_code``, ``title`` and ``message``.
"""

from __future__ import annotations

from sottovoce.api import keys
from sottovoce.api.cartesia import probes, stt, stt_socket, tts, tts_socket, voices
from sottovoce.api.cartesia.errors import ERROR_SCHEMA, error_shape
from sottovoce.api.surface import Surface

SURFACE = Surface(
    name="cartesia",
    routers=(tts.router, tts_socket.router, stt.router, stt_socket.router, voices.router),
    key_sources=(
        keys.authorization("bearer"),
        keys.header("x-api-key"),
        keys.query("api_key"),
        keys.message_field("api_key"),
    ),
    error_shape=error_shape,
    error_schema=ERROR_SCHEMA,
    probes=probes.PROBES,
    content_free_routes=frozenset(
        {
            ("GET", "/voices"),
            ("GET", "/voices/"),
            ("GET", "/voices/{voice_id}"),
            ("DELETE", "/voices/{voice_id}"),
        }
    ),
)
