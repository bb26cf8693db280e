"""Voices in Inworld's shape: ``GET /tts/v1/voices`` (the TTS API's list) and
``GET /voices/v1/voices`` (the voices API, which the ``inworld-tts`` SDK's ``list_voices``
calls). Both filter by language (``filter=language=en`` or ``languages=EN_US``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from sottovoce.api.deps import context
from sottovoce.privacy.eligibility import Product
from sottovoce.services import voices
from sottovoce.services.context import RequestContext
from sottovoce.services.voices import ListedVoice

router = APIRouter(tags=["Inworld: voices"])
CatalogueContext = Annotated[RequestContext, Depends(context(Product.CATALOGUE))]


_SOURCES = {"cloned": "IVC", "generated": "DESIGN"}


def voice_shape(voice: ListedVoice) -> dict[str, Any]:
    labels = voice.labels
    tags = [labels[k] for k in ("gender", "age", "accent") if labels.get(k)]
    return {
        "voiceId": voice.voice_id,
        "displayName": voice.name,
        "description": voice.description or "",
        "languages": [voice.language],
        "langCode": f"{voice.language.upper()}_US",
        "tags": tags,
        "name": f"voices/{voice.voice_id}",
        "source": _SOURCES.get(voice.category, "SYSTEM"),
        "isCustom": voice.is_owner,
    }


async def _wanted(ctx: RequestContext, languages: list[str]) -> list[ListedVoice]:
    codes = {code.split("_")[0].lower() for code in languages if code}
    return [v for v in await voices.catalogue(ctx) if not codes or v.language in codes]


@router.get("/tts/v1/voices")
async def list_tts_voices(
    ctx: CatalogueContext, filter: Annotated[str | None, Query(max_length=200)] = None
) -> dict[str, Any]:
    languages = [filter.partition("=")[2]] if filter and filter.startswith("language=") else []
    return {"voices": [voice_shape(v) for v in await _wanted(ctx, languages)]}


@router.get("/voices/v1/voices")
async def list_voices(
    ctx: CatalogueContext, languages: Annotated[list[str] | None, Query(max_length=20)] = None
) -> dict[str, Any]:
    return {"voices": [voice_shape(v) for v in await _wanted(ctx, languages or [])]}
