"""OpenAI speech: ``POST /v1/audio/speech``, audio streamed as it is made, or Server-Sent
Events with ``stream_format=sse`` (``speech.audio.delta`` then ``speech.audio.done``).

OpenAI's speech endpoint has no retention flag of its own; the workspace's setting applies,
and ``?enable_logging=false`` works here too.
"""

from __future__ import annotations

import base64
import json
from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from sottovoce.api.deps import Flags, context
from sottovoce.api.openai.aliases import ALIASES
from sottovoce.api.openai.formats import output_format
from sottovoce.api.streaming import stream_events
from sottovoce.privacy.eligibility import Product
from sottovoce.privacy.providers import Mode
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.services.context import RequestContext
from sottovoce.services.events import Audio, Done, Event
from sottovoce.services.tts import Speech, SpeechAsk

router = APIRouter(prefix="/v1/audio", tags=["OpenAI: speech"])
TtsContext = Annotated[RequestContext, Depends(context(Product.TTS))]


class SpeechBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    model: str = Field(max_length=100)
    input: Sensitive[str]
    voice: str | dict[str, str] = Field(union_mode="left_to_right")
    # Style instructions steer other engines' delivery; Piper has no such control.
    instructions: Sensitive[str] | None = None
    response_format: str | None = Field(default=None, max_length=20)
    speed: float = Field(default=1.0, ge=0.25, le=4.0)
    stream_format: Literal["audio", "sse"] = "audio"


def _sse(event: dict[str, object]) -> bytes:
    return b"data: " + json.dumps(event).encode() + b"\n\n"


@router.post("/speech")
async def speech(body: SpeechBody, ctx: TtsContext, flags: Flags) -> StreamingResponse:
    voice = body.voice.get("id") if isinstance(body.voice, dict) else body.voice
    tts = Speech(
        ctx,
        SpeechAsk(
            output=output_format(body.response_format),
            voice_id=ALIASES.voice(voice),
            model_id=ALIASES.tts_model(body.model),
            speed=body.speed,
            flags=flags,
            mode=Mode.STREAMING,
        ),
    )
    events = tts.speak(body.input)
    if body.stream_format != "sse":

        def audio(event: Event) -> bytes | None:
            return event.data.reveal() if isinstance(event, Audio) else None

        return await stream_events(events, audio, tts.output.media_type)
    chars = body.input.size

    def sse(event: Event) -> bytes | None:
        if isinstance(event, Audio) and event.data:
            audio = base64.b64encode(event.data.reveal()).decode()
            return _sse({"type": "speech.audio.delta", "audio": audio})
        if isinstance(event, Done):
            # OpenAI counts tokens; a local engine has none, so characters stand in.
            usage = {"input_tokens": chars, "output_tokens": 0, "total_tokens": chars}
            return _sse({"type": "speech.audio.done", "usage": usage})
        return None

    return await stream_events(events, sse, "text/event-stream")
