"""ElevenLabs speech-to-speech (voice changer): ``POST /v1/speech-to-speech/{voice_id}`` and
``/stream`` (the SDK calls them ``/v1/voice-changer/...``: both are served), multipart
``audio``, ``model_id``, ``voice_settings``, ``seed``, ``remove_background_noise`` and
``file_format``; query ``output_format`` and ``enable_logging``.

What the conversion keeps and loses is in :mod:`sottovoce.services.sts`: the words and their
timing are kept, the speaker's delivery is not.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse

from sottovoce.api.bodies import AUDIO_FILE, FLAG, choice, form_body
from sottovoce.api.deps import Flags, context
from sottovoce.api.elevenlabs.aliases import ALIASES
from sottovoce.api.elevenlabs.formats import OutputFormatQuery, output_format
from sottovoce.api.multipart import read_upload
from sottovoce.api.streaming import stream_events
from sottovoce.errors import InvalidRequest
from sottovoce.privacy.eligibility import Product
from sottovoce.privacy.providers import Mode
from sottovoce.services.context import RequestContext
from sottovoce.services.events import Audio, Event
from sottovoce.services.sts import StsAsk, VoiceChange
from sottovoce.services.tts import collect

router = APIRouter(tags=["ElevenLabs: speech to speech"])
StsContext = Annotated[RequestContext, Depends(context(Product.SPEECH_TO_SPEECH))]
FILE_FORMATS = ("other", "pcm_s16le_16")
FORM = form_body(
    {
        "audio": AUDIO_FILE,
        "model_id": {"type": "string"},
        "file_format": {
            **choice(FILE_FORMATS),
            "description": "pcm_s16le_16: the audio is raw 16-bit PCM at 16 kHz, mono.",
        },
        "remove_background_noise": FLAG,
        # Accepted as the SDK sends them, and not used.
        "voice_settings": {"type": "object", "description": "A JSON object (not used)."},
        "seed": {"type": "integer", "description": "Not used."},
    },
    required=["audio"],
)


def voice_change(mode: Mode) -> Callable[..., Coroutine[Any, Any, VoiceChange]]:
    async def dependency(
        voice_id: str,
        request: Request,
        flags: Flags,
        ctx: StsContext,
        output: OutputFormatQuery = None,
        optimize_streaming_latency: Annotated[int | None, Query(ge=0, le=4)] = None,
    ) -> VoiceChange:
        form = await read_upload(request, ctx.settings)
        file_format = form.get("file_format") or "other"
        if file_format not in FILE_FORMATS:
            raise InvalidRequest(
                "'file_format' must be other or pcm_s16le_16.", fields=["file_format"]
            )
        remove_noise = form.flag("remove_background_noise", False)
        upload = form.require_file("audio")
        ask = StsAsk(
            audio=upload.data,
            voice_id=ALIASES.voice(voice_id),
            output=output_format(output),
            model_id=ALIASES.tts_model(form.get("model_id")),
            flags=flags,
            mode=mode,
            raw_sample_rate=16000 if file_format == "pcm_s16le_16" else None,
            settings={"remove_background_noise": remove_noise},
        )
        return VoiceChange(ctx, ask)

    return dependency


def _audio_bytes(event: Event) -> bytes | None:
    return event.data.reveal() if isinstance(event, Audio) else None


@router.post("/v1/speech-to-speech/{voice_id}", openapi_extra=FORM)
@router.post("/v1/voice-changer/{voice_id}", openapi_extra=FORM)  # the SDK's path
async def convert(change: Annotated[VoiceChange, Depends(voice_change(Mode.SYNC))]) -> Response:
    audio, _ = await collect(change.events(), change.output)
    return Response(content=audio, media_type=change.output.media_type)


@router.post("/v1/speech-to-speech/{voice_id}/stream", openapi_extra=FORM)
@router.post("/v1/voice-changer/{voice_id}/stream", openapi_extra=FORM)  # the SDK's path
async def stream(
    change: Annotated[VoiceChange, Depends(voice_change(Mode.STREAMING))],
) -> StreamingResponse:
    return await stream_events(change.events(), _audio_bytes, change.output.media_type)
