"""Voices and models in ElevenLabs' shape: ``/v1/voices``, ``/v2/voices`` (search, category,
paging), ``GET``/``DELETE /v1/voices/{id}``, ``POST /v1/voices/add`` (approximate voice
matching), and its shape of the shared ``GET /v1/models`` (a bare list).

Built-in voices are ``premade``; a workspace's own are ``cloned`` (matched to its samples) or
``generated`` (designed), seen by that workspace only. A voice being matched shows its state
and progress in ``fine_tuning`` (``queued``, ``fine_tuning``, ``fine_tuned`` or ``failed``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from sottovoce.api.bodies import AUDIO_FILE, FLAG, MOST_SAMPLES, files, form_body
from sottovoce.api.deps import Flags, context
from sottovoce.api.elevenlabs.aliases import ALIASES
from sottovoce.api.multipart import MemoryForm, read_upload
from sottovoce.api.params import NON_BLANK, one_of
from sottovoce.engines.base import ModelInfo
from sottovoce.errors import Forbidden, InvalidRequest
from sottovoce.privacy.eligibility import Product
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.services import voices
from sottovoce.services.cloning import CloneAsk, add_voice
from sottovoce.services.context import RequestContext
from sottovoce.services.voices import ListedVoice
from sottovoce.store.voices import NewSample

router = APIRouter(tags=["ElevenLabs: voices"])
CatalogueContext = Annotated[RequestContext, Depends(context(Product.CATALOGUE))]
CloningContext = Annotated[RequestContext, Depends(context(Product.VOICE_CLONING))]
CATEGORIES = ("premade", "cloned", "generated", "professional", "famous", "high_quality")


def voice_shape(voice: ListedVoice) -> dict[str, Any]:
    own = voice.is_owner
    return {
        "voice_id": voice.voice_id,
        "name": voice.name,
        "category": voice.category,
        "description": voice.description,
        "labels": voice.labels,
        "preview_url": None,
        "available_for_tiers": [],
        "settings": None,
        "samples": [{"sample_id": f"{voice.voice_id}-{i}"} for i in range(voice.sample_count)]
        if own
        else None,
        "fine_tuning": {
            "is_allowed_to_fine_tune": own,
            "state": {voice.model_id: voice.status},
            "progress": {voice.model_id: voice.progress},
            "message": {voice.model_id: voice.error_code} if voice.error_code else None,
            "verification_failures": [],
            "verification_attempts_count": 0,
            "manual_verification_requested": False,
        },
        "sharing": None,
        "high_quality_base_model_ids": [voice.model_id],
        "verified_languages": [
            {
                "language": voice.language,
                "model_id": voice.model_id,
                "accent": voice.labels.get("accent"),
            }
        ],
        "is_owner": own,
        "created_at_unix": voice.created_at_ms // 1000 if voice.created_at_ms else None,
    }


def models_shape(models: Sequence[ModelInfo], max_chars: int) -> list[dict[str, Any]]:
    return [
        {
            "model_id": info.model_id,
            "name": info.display_name or info.model_id,
            "description": f"{info.capability} model served by provider {info.provider.name}",
            "can_be_finetuned": False,
            "can_do_text_to_speech": info.capability == "tts",
            "can_do_voice_conversion": info.capability == "tts",
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
    return {"voices": [voice_shape(v) for v in await voices.catalogue(ctx)]}


def _matches(voice: ListedVoice, needle: str) -> bool:
    fields = (voice.name, voice.voice_id, voice.description or "", *voice.labels.values())
    return any(needle in f.lower() for f in fields)


@router.get("/v2/voices")
async def list_voices_v2(
    ctx: CatalogueContext,
    page_size: Annotated[int, Query(ge=1, le=100)] = 10,
    next_page_token: Annotated[str | None, Query(max_length=100)] = None,
    search: Annotated[str | None, Query(max_length=200)] = None,
    category: Annotated[str | None, Query(json_schema_extra=one_of(CATEGORIES))] = None,
    voice_type: Annotated[str | None, Query(max_length=20)] = None,
) -> dict[str, Any]:
    found = await voices.catalogue(ctx)
    if category is not None:
        if category not in CATEGORIES:
            raise InvalidRequest("Unknown voice category.", fields=("category",))
        found = [v for v in found if v.category == category]
    if voice_type in ("personal", "workspace"):
        found = [v for v in found if v.is_owner]
    elif voice_type == "default":
        found = [v for v in found if not v.is_owner]
    if search:
        # Names and descriptions of the workspace's voices are sealed at rest: the search
        # runs here, over the decrypted listing.
        found = [v for v in found if _matches(v, search.lower())]
    start = 0
    if next_page_token:
        ids = [v.voice_id for v in found]
        start = ids.index(next_page_token) + 1 if next_page_token in ids else len(found)
    page = found[start : start + page_size]
    has_more = start + page_size < len(found)
    return {
        "voices": [voice_shape(v) for v in page],
        "has_more": has_more,
        "total_count": len(found),
        "next_page_token": page[-1].voice_id if has_more and page else None,
    }


@router.get("/v1/voices/{voice_id}")
async def get_voice_v1(voice_id: str, ctx: CatalogueContext) -> dict[str, Any]:
    # Listed ids, names and the SDK examples' ids (``JBFqnCBsd6RMkjVDRZzb``) all work.
    found = ALIASES.voice(voice_id) or voice_id
    return voice_shape(await voices.find(ctx, found))


@router.delete("/v1/voices/{voice_id}")
async def delete_voice(voice_id: str, ctx: CatalogueContext) -> dict[str, str]:
    if not voices.is_workspace_voice(voice_id):
        await voices.find(ctx, ALIASES.voice(voice_id) or voice_id)  # 404 if unknown
        raise Forbidden("Built-in voices cannot be deleted.")
    await voices.delete(ctx, voice_id)
    return {"status": "ok"}


def labels_of(form: MemoryForm, name: str = "labels") -> dict[str, str]:
    """A labels field: a JSON object of strings (the SDK sends ``"null"`` when unset)."""
    raw = form.get(name)
    if raw in (None, "", "null"):
        return {}
    try:
        value = json.loads(raw or "")
    except ValueError:
        value = None
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise InvalidRequest(f"'{name}' must be a JSON object.", fields=[name])
    return {k: str(v) for k, v in value.items() if v is not None}


def samples_of(form: MemoryForm, name: str) -> tuple[NewSample, ...]:
    return tuple(
        NewSample(file_name=f.filename, content_type=f.content_type, audio=f.data)
        for f in form.files.get(name, [])
    )


ADD_FORM = form_body(
    {
        "name": {"type": "string", **NON_BLANK},
        "files": {
            **files(AUDIO_FILE, MOST_SAMPLES),
            "description": "Samples of the voice, at least a second together.",
        },
        "description": {"type": "string"},
        "labels": {"type": "object", "description": "A JSON object."},
        "remove_background_noise": FLAG,
    },
    required=["name", "files"],
)


@router.post("/v1/voices/add", openapi_extra=ADD_FORM)
async def add(request: Request, ctx: CloningContext, flags: Flags) -> dict[str, Any]:
    form = await read_upload(request, ctx.settings)
    description = form.get("description")
    ask = CloneAsk(
        name=Sensitive(form.get("name") or ""),
        samples=samples_of(form, "files"),
        description=Sensitive(description) if description not in (None, "null") else None,
        labels=labels_of(form),
        flags=flags,
    )
    form.flag("remove_background_noise", False)
    voice_id = await add_voice(ctx, ask, request.app.state.voice_jobs)
    return {"voice_id": voice_id, "requires_verification": False}
