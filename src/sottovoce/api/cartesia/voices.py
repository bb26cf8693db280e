"""Voices in Cartesia's shape: ``/voices`` with ``starting_after``/``ending_before`` paging
(and the old SDK's ``/voices/``), and ``/voices/{id}``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from sottovoce.api.cartesia.aliases import ALIASES
from sottovoce.api.deps import context
from sottovoce.engines.voices import DEFAULT_VOICES, Voice
from sottovoce.errors import UnknownVoice
from sottovoce.privacy.eligibility import Product
from sottovoce.services.context import RequestContext

router = APIRouter(tags=["Cartesia: voices"])
CatalogueContext = Annotated[RequestContext, Depends(context(Product.CATALOGUE))]
_CREATED_AT = "2025-01-01T00:00:00Z"


def voice_shape(voice: Voice) -> dict[str, Any]:
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


def _page(limit: int, starting_after: str | None, ending_before: str | None) -> dict[str, Any]:
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
        "data": [voice_shape(v) for v in page],
        "has_more": has_more,
        "next_page": page[-1].voice_id if has_more and page else None,
    }


@router.get("/voices")
@router.get("/voices/", include_in_schema=False)
async def list_voices(
    ctx: CatalogueContext,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    starting_after: Annotated[str | None, Query(max_length=100)] = None,
    ending_before: Annotated[str | None, Query(max_length=100)] = None,
) -> dict[str, Any]:
    return _page(limit, starting_after, ending_before)


@router.get("/voices/{voice_id}")
async def get_voice(voice_id: str, ctx: CatalogueContext) -> dict[str, Any]:
    voice = DEFAULT_VOICES.get(voice_id)
    if voice is None:
        try:
            voice = DEFAULT_VOICES.resolve(ALIASES.voice(voice_id))
        except UnknownVoice:
            raise UnknownVoice(fields=("id",)) from None
    return voice_shape(voice)
