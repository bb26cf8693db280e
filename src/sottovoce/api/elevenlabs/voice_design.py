"""ElevenLabs voice design: ``POST /v1/text-to-voice/design`` (previews from a description)
and ``POST /v1/text-to-voice`` (keep one as a workspace voice). Never under zero retention."""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from sottovoce.api.deps import Flags, context
from sottovoce.api.elevenlabs.formats import OutputFormatQuery, output_format
from sottovoce.api.elevenlabs.voices import voice_shape
from sottovoce.api.params import NON_BLANK, nullable
from sottovoce.privacy.eligibility import Product
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.services import voice_design, voices
from sottovoce.services.context import RequestContext

router = APIRouter(prefix="/v1/text-to-voice", tags=["ElevenLabs: voice design"])
DesignContext = Annotated[RequestContext, Depends(context(Product.VOICE_DESIGN))]


class DesignBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    voice_description: Sensitive[str] = Field(json_schema_extra=NON_BLANK)
    text: Sensitive[str] | None = Field(
        default=None,
        json_schema_extra=nullable(
            {"type": "string", **NON_BLANK, "maxLength": voice_design.MAX_TEXT}
        ),
    )
    auto_generate_text: bool | None = None
    # numpy seeds only non-negative numbers (ElevenLabs: 0 to 4294967295).
    seed: int | None = Field(default=None, ge=0, le=4_294_967_295)
    model_id: str | None = Field(default=None, max_length=100)


class SaveBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    voice_name: Sensitive[str] = Field(json_schema_extra=NON_BLANK)
    voice_description: Sensitive[str]
    generated_voice_id: str = Field(max_length=400)
    labels: dict[str, str | None] | None = None


@router.post("/design")
async def design(
    body: DesignBody,
    ctx: DesignContext,
    flags: Flags,
    output: OutputFormatQuery = None,
) -> dict[str, Any]:
    fmt = output_format(output or "mp3_44100_128")
    ask = voice_design.DesignAsk(
        description=body.voice_description,
        output=fmt,
        text=None if body.auto_generate_text else body.text,
        seed=body.seed,
        flags=flags,
    )
    result = await voice_design.design(ctx, ask)
    return {
        "previews": [
            {
                "audio_base_64": base64.b64encode(p.audio.reveal()).decode(),
                "generated_voice_id": p.generated_voice_id,
                "media_type": fmt.media_type,
                "duration_secs": round(p.duration, 3),
                "language": "en",
            }
            for p in result.previews
        ],
        "text": result.text.reveal(),
    }


@router.post("")
async def create(body: SaveBody, ctx: DesignContext, flags: Flags) -> dict[str, Any]:
    labels = {k: v for k, v in (body.labels or {}).items() if v is not None}
    ask = voice_design.SaveAsk(
        name=body.voice_name,
        description=body.voice_description,
        generated_voice_id=body.generated_voice_id,
        labels=labels,
        flags=flags,
    )
    voice_id = await voice_design.save(ctx, ask)
    return voice_shape(await voices.find(ctx, voice_id))
