"""Voices and models in ElevenLabs' shape: ``/v1/voices``, ``/v2/voices`` (paging and search),
``/v1/voices/{id}``, and its shape of the shared ``GET /v1/models`` (a bare list)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from sottovoce.api.deps import context
from sottovoce.api.elevenlabs.aliases import ALIASES
from sottovoce.engines.base import ModelInfo
from sottovoce.engines.voices import DEFAULT_VOICES, Voice
from sottovoce.privacy.eligibility import Product
from sottovoce.services.context import RequestContext

router = APIRouter(tags=["ElevenLabs: voices"])
CatalogueContext = Annotated[RequestContext, Depends(context(Product.CATALOGUE))]


def voice_shape(voice: Voice) -> dict[str, Any]:
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


def models_shape(models: Sequence[ModelInfo], max_chars: int) -> list[dict[str, Any]]:
    return [
        {
            "model_id": info.model_id,
            "name": info.display_name or info.model_id,
            "description": f"{info.capability} model served by provider {info.provider.name}",
            "can_be_finetuned": False,
            "can_do_text_to_speech": info.capability == "tts",
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
        for info in models
    ]


@router.get("/v1/voices")
async def list_voices_v1(ctx: CatalogueContext) -> dict[str, Any]:
    return {"voices": [voice_shape(v) for v in DEFAULT_VOICES.voices]}


@router.get("/v2/voices")
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
        "voices": [voice_shape(v) for v in page],
        "has_more": has_more,
        "total_count": len(voices),
        "next_page_token": page[-1].voice_id if has_more and page else None,
    }


@router.get("/v1/voices/{voice_id}")
async def get_voice_v1(voice_id: str, ctx: CatalogueContext) -> dict[str, Any]:
    # Listed ids and the SDK examples' ids (``JBFqnCBsd6RMkjVDRZzb``) both work.
    return voice_shape(
        DEFAULT_VOICES.get(voice_id) or DEFAULT_VOICES.resolve(ALIASES.voice(voice_id))
    )
