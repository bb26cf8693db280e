"""ElevenLabs text-to-dialogue: ``/v1/text-to-dialogue``, ``/stream``, ``/with-timestamps`` and
``/stream/with-timestamps``, as the ``elevenlabs`` SDK calls them.

Body ``{inputs: [{text, voice_id}], model_id, settings, seed, ...}``; query ``output_format``
and ``enable_logging``. The timestamped variants add ``voice_segments`` (one per turn: its
voice, start and end seconds, and its characters in the turns' texts joined one after another).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from sottovoce.api.deps import Flags, context
from sottovoce.api.elevenlabs.aliases import ALIASES
from sottovoce.api.elevenlabs.formats import OutputFormatQuery, output_format
from sottovoce.api.elevenlabs.tts import alignment
from sottovoce.api.params import NON_BLANK
from sottovoce.api.streaming import stream_events
from sottovoce.privacy.eligibility import Product
from sottovoce.privacy.providers import Mode
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.services.context import RequestContext
from sottovoce.services.dialogue import (
    Dialogue,
    DialogueAsk,
    Turn,
    TurnAudio,
    VoiceSegment,
    collect,
)
from sottovoce.services.events import Audio, Event

router = APIRouter(prefix="/v1/text-to-dialogue", tags=["ElevenLabs: text to dialogue"])
DialogueContext = Annotated[RequestContext, Depends(context(Product.DIALOGUE))]


class DialogueInput(BaseModel):
    model_config = ConfigDict(extra="ignore")
    text: Sensitive[str] = Field(json_schema_extra=NON_BLANK)
    voice_id: str = Field(max_length=100)


class DialogueBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    inputs: list[DialogueInput] = Field(min_length=1, max_length=1000)
    model_id: str | None = Field(default=None, max_length=100)
    language_code: str | None = Field(default=None, max_length=16)
    seed: int | None = None
    apply_text_normalization: str | None = Field(default=None, max_length=10)


def dialogue(mode: Mode) -> Callable[..., Coroutine[Any, Any, Dialogue]]:
    async def dependency(
        body: DialogueBody,
        ctx: DialogueContext,
        flags: Flags,
        output: OutputFormatQuery = None,
    ) -> Dialogue:
        ask = DialogueAsk(
            turns=tuple(Turn(i.text, ALIASES.voice(i.voice_id)) for i in body.inputs),
            output=output_format(output),
            model_id=ALIASES.tts_model(body.model_id),
            flags=flags,
            mode=mode,
        )
        return Dialogue(ctx, ask)

    return dependency


OneReply = Annotated[Dialogue, Depends(dialogue(Mode.SYNC))]
Streamed = Annotated[Dialogue, Depends(dialogue(Mode.STREAMING))]


def segment_shape(segment: VoiceSegment) -> dict[str, Any]:
    return {
        "voice_id": segment.voice_id,
        "start_time_seconds": segment.start,
        "end_time_seconds": segment.end,
        "character_start_index": segment.char_start,
        "character_end_index": segment.char_end,
        "dialogue_input_index": segment.turn,
    }


def _audio_bytes(event: Event) -> bytes | None:
    return event.data.reveal() if isinstance(event, Audio) else None


@dataclass
class _Lines:
    """Writes NDJSON lines, each with the audio, its characters and the turns it completes."""

    def __call__(self, event: Event) -> bytes | None:
        if not isinstance(event, Audio):
            return None
        audio = event.data.reveal()
        chars = event.alignment.reveal() if event.alignment is not None else ()
        segment = event.segment if isinstance(event, TurnAudio) else None
        if not audio and not chars and segment is None:
            return None
        aligned = alignment(chars) if chars else None
        line = {
            "audio_base64": base64.b64encode(audio).decode(),
            "alignment": aligned,
            "normalized_alignment": aligned,
            "voice_segments": [segment_shape(segment)] if segment is not None else [],
        }
        return json.dumps(line).encode() + b"\n"


@router.post("")
async def convert(dialogue: OneReply) -> Response:
    result = await collect(dialogue.events(), dialogue.output)
    return Response(content=result.audio, media_type=dialogue.output.media_type)


@router.post("/stream")
async def stream(dialogue: Streamed) -> StreamingResponse:
    return await stream_events(dialogue.events(), _audio_bytes, dialogue.output.media_type)


@router.post("/with-timestamps")
async def convert_with_timestamps(dialogue: OneReply) -> Response:
    result = await collect(dialogue.events(), dialogue.output)
    aligned = alignment(result.alignment)
    payload = {
        "audio_base64": base64.b64encode(result.audio).decode(),
        "alignment": aligned,
        "normalized_alignment": aligned,
        "voice_segments": [segment_shape(s) for s in result.segments],
    }
    return Response(content=json.dumps(payload), media_type="application/json")


@router.post("/stream/with-timestamps")
async def stream_with_timestamps(dialogue: Streamed) -> StreamingResponse:
    return await stream_events(dialogue.events(), _Lines(), "application/x-ndjson")
