"""Deepgram text-to-speech: ``POST /v1/speak`` (the audio in one reply), as the ``deepgram-sdk``
calls it (``speak.v1.audio.generate``), and the query both it and the socket read.

Query: ``model`` (an ``aura`` name: the default model, speaking the voice it names),
``encoding``, ``container``, ``sample_rate``, ``bit_rate``, ``speed`` (0.7-1.5),
``mip_opt_out`` (accepted: sottovoce never uses content to improve models) and
``enable_logging=false`` (zero retention for this request). Body ``{"text"}``. Keys come as
``Authorization: Token``; errors as ``{"err_code", "err_msg", "request_id"}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from sottovoce.api import params
from sottovoce.api.deepgram.aliases import ALIASES, DEFAULT_MODEL, voice_of
from sottovoce.api.deepgram.formats import ENCODINGS, output_format
from sottovoce.api.deps import context
from sottovoce.api.params import NON_BLANK
from sottovoce.api.queries import FLAG, query_parameters
from sottovoce.errors import InvalidRequest
from sottovoce.privacy.eligibility import Product
from sottovoce.privacy.policy import RequestFlags
from sottovoce.privacy.providers import Mode
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.services.context import RequestContext
from sottovoce.services.tts import Speech, SpeechAsk, collect

router = APIRouter(tags=["Deepgram: text to speech"])
TtsContext = Annotated[RequestContext, Depends(context(Product.TTS))]


class SpeakBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    text: Sensitive[str] = Field(json_schema_extra=NON_BLANK)


def speak_ask(query: Mapping[str, str], mode: Mode, *, socket: bool = False) -> SpeechAsk:
    """One utterance as Deepgram's query asks for it (the REST route and the socket)."""
    if query.get("callback"):
        raise InvalidRequest("Callbacks are not supported by this server.", fields=("callback",))
    params.flag(query.get("mip_opt_out"), "mip_opt_out")
    speed = params.number(query.get("speed"), "speed", 0.7, 1.5)
    model = query.get("model") or DEFAULT_MODEL
    fmt = output_format(
        query.get("encoding"),
        query.get("container"),
        query.get("sample_rate"),
        query.get("bit_rate"),
        socket=socket,
    )
    return SpeechAsk(
        output=fmt,
        voice_id=voice_of(model),
        model_id=ALIASES.tts_model(model),
        speed=1.0 if speed is None else speed,
        flags=RequestFlags(
            enable_logging=params.flag(query.get("enable_logging"), "enable_logging")
        ),
        mode=mode,
    )


_QUERY = query_parameters(
    {
        "model": (
            {
                "anyOf": [
                    {"type": "string", "enum": sorted(ALIASES.voices)},
                    {"type": "string", "pattern": "^[^/]+/.+$"},
                ]
            },
            "An Aura model name (the default model, speaking the voice it names), or a "
            "registry id provider/model",
        ),
        "encoding": ({"type": "string", "enum": list(ENCODINGS)}, "The audio's encoding"),
        "speed": ({"type": "number", "minimum": 0.7, "maximum": 1.5}, "Speaking rate"),
        "mip_opt_out": (FLAG, "Accepted: sottovoce never uses content to improve models"),
        "enable_logging": (FLAG, "false: zero retention for this request"),
    }
)


@router.post("/v1/speak", openapi_extra=_QUERY)
async def speak(request: Request, body: SpeakBody, ctx: TtsContext) -> Response:
    """Speak ``text``, the audio in one reply. With ``encoding``, the query may also name a
    ``sample_rate``, a ``container`` and a ``bit_rate``; which values are valid depends on the
    encoding (refused with 422 otherwise): linear16 8000, 16000, 24000 (default), 32000 or
    48000 Hz, in a WAV file or raw with ``container=none``; mulaw and alaw 8000 (default) or
    16000 Hz, raw; mp3 22050 Hz at 32000 or 48000 (default) b/s; opus 48000 Hz in Ogg,
    4000-650000 b/s; flac 8000-48000 Hz; aac 22050 Hz, 4000-650000 b/s."""
    tts = Speech(ctx, speak_ask(request.query_params, Mode.SYNC))
    audio, _ = await collect(tts.speak(body.text), tts.output)
    headers = {
        "dg-request-id": ctx.request_id,
        "dg-model-name": request.query_params.get("model") or DEFAULT_MODEL,
        "dg-char-count": str(body.text.size),
    }
    return Response(content=audio, media_type=tts.output.media_type, headers=headers)
