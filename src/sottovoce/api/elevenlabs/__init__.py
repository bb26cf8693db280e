"""The ElevenLabs surface: text-to-speech (four routes and two sockets), text-to-dialogue
(four), speech-to-speech (two), speech-to-text (files and the realtime socket), voices (listing,
approximate voice matching, design, deletion), agents (CRUD, signed URLs, the conversation
socket, retained conversations) and its shape of the model list, as the ``elevenlabs`` SDK calls
them.

Keys come in the ``xi-api-key`` header, or for sockets the ``xi_api_key``/``token`` query
parameter or the first message; errors carry ElevenLabs' ``detail`` object.
"""

from __future__ import annotations

from sottovoce.api import keys
from sottovoce.api.elevenlabs import (
    agents,
    convai_socket,
    conversations,
    dialogue,
    history_download,
    probes,
    realtime_stt,
    sts,
    stt,
    tts,
    tts_socket,
    voice_design,
    voices,
)
from sottovoce.api.elevenlabs.errors import ERROR_SCHEMA, error_shape
from sottovoce.api.surface import Surface

SURFACE = Surface(
    name="elevenlabs",
    routers=(
        tts.router,
        tts_socket.router,
        dialogue.router,
        history_download.router,
        sts.router,
        stt.router,
        realtime_stt.router,
        voices.router,
        voice_design.router,
        agents.router,
        conversations.router,
        convai_socket.router,
    ),
    key_sources=(
        keys.header("xi-api-key"),
        keys.query("xi_api_key"),
        keys.query("token"),
        keys.message_field("xi_api_key"),
        keys.message_field("xi-api-key"),
    ),
    error_shape=error_shape,
    error_schema=ERROR_SCHEMA,
    probes=probes.PROBES,
    content_free_routes=frozenset(
        {
            ("GET", "/v1/voices"),
            ("GET", "/v2/voices"),
            ("GET", "/v1/voices/{voice_id}"),
            ("DELETE", "/v1/voices/{voice_id}"),
            ("GET", "/v1/convai/agents/{agent_id}"),
            ("DELETE", "/v1/convai/agents/{agent_id}"),
            ("GET", "/v1/convai/conversation/get-signed-url"),
            ("GET", "/v1/convai/conversations"),
            ("GET", "/v1/convai/conversations/{conversation_id}"),
            ("GET", "/v1/convai/conversations/{conversation_id}/audio"),
            ("DELETE", "/v1/convai/conversations/{conversation_id}"),
        }
    ),
    models_shape=voices.models_shape,
)
