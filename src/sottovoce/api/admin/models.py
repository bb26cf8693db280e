"""``GET /v1/models``: one registry, in the shape of the caller's SDK.

Several vendors' SDKs call this path: OpenAI's expects ``{"object": "list", "data": [...]}``,
ElevenLabs' a bare list of its model objects. The surface whose key source the caller used
answers in its shape when it declares one; otherwise sottovoce's own listing (the
OpenAI-compatible list) is returned. Every capability is listed, each by its registry id.

sottovoce's own listing also says, for every local and upstream model, how it can be called
(``modes``), what its provider declares it retains in each (``retention``: ``none``,
``zdr-by-agreement`` or ``retains``), whether that covers zero retention (``covered``), and what
this workspace may use under its current retention (``usable``, per mode: the policy's own
answer; ``?enable_logging=false`` shows the view of a zero-retention request).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from sottovoce.api.deps import Flags, context, key_source_of, surfaces_of
from sottovoce.engines.base import ModelInfo
from sottovoce.errors import RetentionRefused
from sottovoce.privacy.eligibility import Product
from sottovoce.privacy.policy import RequestFlags, Route, decide
from sottovoce.privacy.providers import Mode
from sottovoce.services.context import RequestContext

router = APIRouter(tags=["models"])
CatalogueContext = Annotated[RequestContext, Depends(context(Product.CATALOGUE))]
_CREATED = 1735689600  # 2025-01-01: the models have no creation date of their own


_PRODUCTS = {"tts": Product.TTS, "stt": Product.STT, "chat": Product.LLM}


def _entry(info: ModelInfo) -> dict[str, Any]:
    return {
        "id": info.model_id,
        "object": "model",
        "created": _CREATED,
        "owned_by": info.provider.name,
        "capability": info.capability,
        "local": info.provider.local,
        "modes": [m.value for m in info.modes],
        "retention": {m.value: info.provider.declaration(m).value for m in info.modes},
        "covered": {m.value: info.provider.covers(m) for m in info.modes},
    }


def _usable(ctx: RequestContext, info: ModelInfo, flags: RequestFlags, mode: Mode) -> bool:
    product = _PRODUCTS.get(info.capability)
    if product is None:
        return False
    try:
        decide(ctx.workspace.retention, flags, product, Route(info.provider, mode))
    except RetentionRefused:
        return False
    return True


def workspace_view(
    ctx: RequestContext, models: Sequence[ModelInfo], flags: RequestFlags
) -> dict[str, Any]:
    """sottovoce's own listing, with what this workspace may use under its retention."""
    retention = ctx.workspace.retention
    data = [
        {**_entry(info), "usable": {m.value: _usable(ctx, info, flags, m) for m in info.modes}}
        for info in models
    ]
    return {
        "object": "list",
        "data": data,
        "workspace": {
            "zero_retention": retention.zdr_enabled or flags.enable_logging is False,
            "allow_uncovered_providers": retention.allow_uncovered_providers,
        },
    }


@router.get("/v1/models", response_model=None)
async def list_models(request: Request, ctx: CatalogueContext, flags: Flags) -> Any:
    models = ctx.engines.models()
    source = key_source_of(request)
    surface = surfaces_of(request).named(source.surface) if source is not None else None
    if surface is not None and surface.models_shape is not None:
        return surface.models_shape(models, ctx.settings.tts.max_text_chars)
    return workspace_view(ctx, models, flags)
