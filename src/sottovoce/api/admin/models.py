"""``GET /v1/models``: one registry, in the shape of the caller's SDK.

Several vendors' SDKs call this path: OpenAI's expects ``{"object": "list", "data": [...]}``,
ElevenLabs' a bare list of its model objects. The surface whose key source the caller used
answers in its shape when it declares one; otherwise sottovoce's own listing (the
OpenAI-compatible list) is returned. Every capability is listed, each by its registry id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from sottovoce.api.deps import context, key_source_of, surfaces_of
from sottovoce.engines.base import ModelInfo
from sottovoce.privacy.eligibility import Product
from sottovoce.services.context import RequestContext

router = APIRouter(tags=["models"])
CatalogueContext = Annotated[RequestContext, Depends(context(Product.CATALOGUE))]
_CREATED = 1735689600  # 2025-01-01: the models have no creation date of their own


def model_list(models: Sequence[ModelInfo], max_text_chars: int) -> dict[str, Any]:
    """sottovoce's own listing."""
    return {
        "object": "list",
        "data": [
            {
                "id": info.model_id,
                "object": "model",
                "created": _CREATED,
                "owned_by": info.provider.name,
                "capability": info.capability,
            }
            for info in models
        ],
    }


@router.get("/v1/models", response_model=None)
async def list_models(request: Request, ctx: CatalogueContext) -> Any:
    models = ctx.engines.models()
    source = key_source_of(request)
    surface = surfaces_of(request).named(source.surface) if source is not None else None
    shape = surface.models_shape if surface is not None and surface.models_shape else model_list
    return shape(models, ctx.settings.tts.max_text_chars)
