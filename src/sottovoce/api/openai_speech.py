"""OpenAI speech: ``POST /v1/audio/speech``, audio streamed as it is made, or Server-Sent
Events with ``stream_format=sse`` (``speech.audio.delta`` then ``speech.audio.done``).

OpenAI's speech endpoint has no retention flag of its own; the workspace's setting applies,
and ``?enable_logging=false`` works here too.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from sottovoce.api import tts_service
from sottovoce.api.deps import RequestContext, context, retention_flags
from sottovoce.audio.formats import openai_format
from sottovoce.engines.base import Mode
from sottovoce.privacy.eligibility import Product
from sottovoce.privacy.policy import RequestFlags
from sottovoce.privacy.sensitive import Sensitive

router = APIRouter(prefix="/v1/audio", tags=["openai"])
TtsContext = Annotated[RequestContext, Depends(context(Product.TTS))]
Flags = Annotated[RequestFlags, Depends(retention_flags)]


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
    job = tts_service.prepare(
        ctx,
        text=body.input,
        voice_id=voice,
        model_id=body.model,
        speed=body.speed,
        fmt=openai_format(body.response_format),
        flags=flags,
        mode=Mode.STREAMING,
    )

    async def audio() -> AsyncIterator[bytes]:
        async for piece in tts_service.run(job):
            if piece.audio:
                yield piece.audio

    async def events() -> AsyncIterator[bytes]:
        async for piece in tts_service.run(job):
            if piece.audio:
                delta = {"type": "speech.audio.delta", "audio": base64.b64encode(piece.audio)}
                yield _sse({k: v.decode() if isinstance(v, bytes) else v for k, v in delta.items()})
        # OpenAI counts tokens; a local engine has none, so characters and audio seconds stand in.
        usage = {"input_tokens": job.text.size, "output_tokens": 0, "total_tokens": job.text.size}
        yield _sse({"type": "speech.audio.done", "usage": usage})

    if body.stream_format == "sse":
        return StreamingResponse(await tts_service.primed(events()), media_type="text/event-stream")
    return StreamingResponse(await tts_service.primed(audio()), media_type=job.format.media_type)
