"""The Inworld surface: text-to-speech (one reply and streamed), voices, and speech-to-text
(one reply, and its bidirectional socket), as the ``inworld-tts`` SDK calls them with
``base_url="http://host:port"`` (Inworld's STT has no Python SDK: its REST and socket
shapes follow Inworld's API reference).

Keys come as ``Authorization: Basic`` (the key as given, or base64 ``user:key``); errors are
Inworld's gRPC status ``{"code", "message", "details"}``.
"""

from __future__ import annotations

from sottovoce.api import keys
from sottovoce.api.inworld import probes, stt, stt_socket, tts, voices
from sottovoce.api.inworld.errors import ERROR_SCHEMA, error_shape
from sottovoce.api.surface import Surface

SURFACE = Surface(
    name="inworld",
    routers=(tts.router, voices.router, stt.router, stt_socket.router),
    key_sources=(keys.authorization("basic", decode=keys.basic_credential),),
    error_shape=error_shape,
    error_schema=ERROR_SCHEMA,
    probes=probes.PROBES,
    content_free_routes=frozenset({("GET", "/tts/v1/voices"), ("GET", "/voices/v1/voices")}),
    audio_json_paths=frozenset({"/stt/v1/transcribe"}),
)
