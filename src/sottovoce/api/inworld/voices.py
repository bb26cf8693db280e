"""Voices in Inworld's shape: ``GET /tts/v1/voices`` (the TTS API's list) and
``GET /voices/v1/voices`` (the voices API, which the ``inworld-tts`` SDK's ``list_voices``
calls). Both filter by language (``filter=language=en`` or ``languages=EN_US``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from sottovoce.api.deps import context
from sottovoce.engines.voices import DEFAULT_VOICES, Voice
from sottovoce.privacy.eligibility import Product
from sottovoce.services.context import RequestContext

router = APIRouter(tags=["Inworld: voices"])
CatalogueContext = Annotated[RequestContext, Depends(context(Product.CATALOGUE))]


def voice_shape(voice: Voice) -> dict[str, Any]:
    return {
        "voiceId": voice.voice_id,
        "displayName": voice.name,
        "description": voice.description,
        "languages": [voice.language],
        "langCode": f"{voice.language.upper()}_US",
        "tags": [voice.gender, voice.accent],
        "name": f"voices/{voice.voice_id}",
        "source": "SYSTEM",
        "isCustom": False,
    }


def _wanted(languages: list[str]) -> list[Voice]:
    codes = {code.split("_")[0].lower() for code in languages if code}
    return [v for v in DEFAULT_VOICES.voices if not codes or v.language in codes]


@router.get("/tts/v1/voices")
async def list_tts_voices(
    ctx: CatalogueContext, filter: Annotated[str | None, Query(max_length=200)] = None
) -> dict[str, Any]:
    languages = [filter.partition("=")[2]] if filter and filter.startswith("language=") else []
    return {"voices": [voice_shape(v) for v in _wanted(languages)]}


@router.get("/voices/v1/voices")
async def list_voices(
    ctx: CatalogueContext, languages: Annotated[list[str] | None, Query(max_length=20)] = None
) -> dict[str, Any]:
    return {"voices": [voice_shape(v) for v in _wanted(languages or [])]}
