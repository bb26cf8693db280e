"""``GET /v1/models``: one registry, two shapes.

OpenAI's SDK authenticates with ``Authorization: Bearer`` and expects ``{"object": "list",
"data": [...]}``; ElevenLabs' SDK sends ``xi-api-key`` and expects a bare list of its model
objects. The caller's way of authenticating picks the shape. Every capability is listed (speech
synthesis, transcription, chat), each by its registry id.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from sottovoce.api.deps import AuthScheme, RequestContext, context
from sottovoce.engines.base import ModelInfo
from sottovoce.privacy.eligibility import Product

router = APIRouter(tags=["models"])
CatalogueContext = Annotated[RequestContext, Depends(context(Product.CATALOGUE))]
_CREATED = 1735689600  # 2025-01-01: the models have no creation date of their own


def openai_model(info: ModelInfo) -> dict[str, Any]:
    return {
        "id": info.model_id,
        "object": "model",
        "created": _CREATED,
        "owned_by": info.provider.name,
        "capability": info.capability,
    }


def elevenlabs_model(info: ModelInfo, max_chars: int) -> dict[str, Any]:
    tts = info.capability == "tts"
    return {
        "model_id": info.model_id,
        "name": info.display_name or info.model_id,
        "description": f"{info.capability} model served by provider {info.provider.name}",
        "can_be_finetuned": False,
        "can_do_text_to_speech": tts,
        "can_do_voice_conversion": False,
        "can_use_style": False,
        "can_use_speaker_boost": False,
        "serves_pro_voices": False,
        "token_cost_factor": 1.0,
        "requires_alpha_access": False,
        "max_characters_request_free_user": max_chars,
        "max_characters_request_subscribed_user": max_chars,
        "maximum_text_length_per_request": max_chars,
        "languages": [{"language_id": code, "name": code} for code in info.languages],
        "concurrency_group": "standard",
    }


@router.get("/v1/models", response_model=None)
async def list_models(ctx: CatalogueContext) -> dict[str, Any] | list[dict[str, Any]]:
    models = ctx.services.engines.models()
    if ctx.auth_scheme is AuthScheme.XI_API_KEY:
        limit = ctx.services.settings.tts.max_text_chars
        return [elevenlabs_model(m, limit) for m in models]
    return {"object": "list", "data": [openai_model(m) for m in models]}
