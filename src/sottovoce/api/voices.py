"""Voice listings in the ElevenLabs shape (``/v1/voices``, ``/v2/voices``, ``/v1/voices/{id}``)
and the Cartesia shape (``/voices`` with ``starting_after`` paging, and the old ``/voices/``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from sottovoce.api.deps import RequestContext, context
from sottovoce.engines.voices import DEFAULT_VOICES, Voice
from sottovoce.errors import UnknownVoice
from sottovoce.privacy.eligibility import Product

elevenlabs_router = APIRouter(tags=["elevenlabs"])
cartesia_router = APIRouter(tags=["cartesia"])
CatalogueContext = Annotated[RequestContext, Depends(context(Product.CATALOGUE))]
_CREATED_AT = "2025-01-01T00:00:00Z"


def elevenlabs_voice(voice: Voice) -> dict[str, Any]:
    return {
        "voice_id": voice.voice_id,
        "name": voice.name,
        "category": "premade",
        "description": voice.description,
        "labels": {
            "accent": voice.accent,
            "gender": voice.gender,
            "language": voice.language,
            "use_case": "general",
        },
        "preview_url": None,
        "available_for_tiers": [],
        "settings": None,
        "samples": None,
        "sharing": None,
        "high_quality_base_model_ids": [voice.model_id],
        "verified_languages": [
            {"language": voice.language, "model_id": voice.model_id, "accent": voice.accent}
        ],
        "is_owner": False,
    }


def cartesia_voice(voice: Voice) -> dict[str, Any]:
    return {
        "id": voice.voice_id,
        "name": voice.name,
        "description": voice.description,
        "tagline": "Local Piper voice",
        "language": voice.language,
        "locales": [{"locale": "en-US", "is_native": True}],
        "gender": "masculine" if voice.gender == "male" else "feminine",
        "is_owner": False,
        "is_public": True,
        "access": "public",
        "visibility": "all",
        "created_at": _CREATED_AT,
    }


def _find(voice_id: str) -> Voice:
    # Listed ids and the SDK examples' ids (``JBFqnCBsd6RMkjVDRZzb``, ``alloy``) both work.
    return DEFAULT_VOICES.get(voice_id) or DEFAULT_VOICES.resolve(voice_id)


@elevenlabs_router.get("/v1/voices")
async def list_voices_v1(ctx: CatalogueContext) -> dict[str, Any]:
    return {"voices": [elevenlabs_voice(v) for v in DEFAULT_VOICES.voices]}


@elevenlabs_router.get("/v2/voices")
async def list_voices_v2(
    ctx: CatalogueContext,
    page_size: Annotated[int, Query(ge=1, le=100)] = 10,
    next_page_token: Annotated[str | None, Query(max_length=100)] = None,
    search: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    voices = list(DEFAULT_VOICES.voices)
    if search:
        needle = search.lower()
        voices = [v for v in voices if needle in v.name.lower() or needle in v.voice_id.lower()]
    start = 0
    if next_page_token:
        ids = [v.voice_id for v in voices]
        start = ids.index(next_page_token) + 1 if next_page_token in ids else len(voices)
    page = voices[start : start + page_size]
    has_more = start + page_size < len(voices)
    return {
        "voices": [elevenlabs_voice(v) for v in page],
        "has_more": has_more,
        "total_count": len(voices),
        "next_page_token": page[-1].voice_id if has_more and page else None,
    }


@elevenlabs_router.get("/v1/voices/{voice_id}")
async def get_voice_v1(voice_id: str, ctx: CatalogueContext) -> dict[str, Any]:
    return elevenlabs_voice(_find(voice_id))


def _cartesia_page(
    limit: int, starting_after: str | None, ending_before: str | None
) -> dict[str, Any]:
    voices = list(DEFAULT_VOICES.voices)
    ids = [v.voice_id for v in voices]
    start, end = 0, len(voices)
    if starting_after is not None:
        start = ids.index(starting_after) + 1 if starting_after in ids else len(voices)
    if ending_before is not None:
        end = ids.index(ending_before) if ending_before in ids else 0
        start = max(start, end - limit)
    page = voices[start : min(end, start + limit)]
    has_more = start + len(page) < end
    return {
        "data": [cartesia_voice(v) for v in page],
        "has_more": has_more,
        "next_page": page[-1].voice_id if has_more and page else None,
    }


@cartesia_router.get("/voices")
@cartesia_router.get("/voices/", include_in_schema=False)
async def list_voices_cartesia(
    ctx: CatalogueContext,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    starting_after: Annotated[str | None, Query(max_length=100)] = None,
    ending_before: Annotated[str | None, Query(max_length=100)] = None,
) -> dict[str, Any]:
    return _cartesia_page(limit, starting_after, ending_before)


@cartesia_router.get("/voices/{voice_id}")
async def get_voice_cartesia(voice_id: str, ctx: CatalogueContext) -> dict[str, Any]:
    try:
        return cartesia_voice(_find(voice_id))
    except UnknownVoice:
        raise UnknownVoice(fields=("id",)) from None
