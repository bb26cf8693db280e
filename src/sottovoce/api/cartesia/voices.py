"""Voices in Cartesia's shape: ``/voices`` with ``starting_after``/``ending_before`` paging
(and the old SDK's ``/voices/``), ``GET``/``DELETE /voices/{id}``, and ``POST /voices/clone``
(approximate voice matching: the voice is returned at once and is usable when its matching
job is done; speaking with it before then is a 409 ``voice_not_ready``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from sottovoce.api.bodies import AUDIO_FILE, form_body
from sottovoce.api.cartesia.aliases import ALIASES
from sottovoce.api.deps import context
from sottovoce.api.multipart import read_upload
from sottovoce.api.params import NON_BLANK
from sottovoce.errors import Forbidden, InvalidRequest, UnknownVoice
from sottovoce.privacy.eligibility import Product
from sottovoce.privacy.policy import RequestFlags
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.services import voices
from sottovoce.services.cloning import CloneAsk, add_voice
from sottovoce.services.context import RequestContext
from sottovoce.services.voices import ListedVoice
from sottovoce.store.voices import NewSample

router = APIRouter(tags=["Cartesia: voices"])
CatalogueContext = Annotated[RequestContext, Depends(context(Product.CATALOGUE))]
CloningContext = Annotated[RequestContext, Depends(context(Product.VOICE_CLONING))]
_CREATED_AT = "2025-01-01T00:00:00Z"
_GENDERS = {"male": "masculine", "female": "feminine"}


def _created(voice: ListedVoice) -> str:
    if voice.created_at_ms is None:
        return _CREATED_AT
    return datetime.fromtimestamp(voice.created_at_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def voice_shape(voice: ListedVoice) -> dict[str, Any]:
    own = voice.is_owner
    return {
        "id": voice.voice_id,
        "name": voice.name,
        "description": voice.description or "",
        "tagline": f"{voice.labels.get('engine', '')} voice ({voice.category})",
        "language": voice.language,
        "locales": [{"locale": "en-US", "is_native": not own}],
        "gender": _GENDERS.get(voice.gender, "gender_neutral"),
        "is_owner": own,
        "is_public": not own,
        "access": "private" if own else "public",
        "visibility": "owner" if own else "all",
        "user_id": "" if own else "sottovoce",
        "created_at": _created(voice),
        "labels": voice.labels,
        "status": voice.status,
        "progress": voice.progress,
    }


def _page(
    found: list[ListedVoice], limit: int, starting_after: str | None, ending_before: str | None
) -> dict[str, Any]:
    ids = [v.voice_id for v in found]
    start, end = 0, len(found)
    if starting_after is not None:
        start = ids.index(starting_after) + 1 if starting_after in ids else len(found)
    if ending_before is not None:
        end = ids.index(ending_before) if ending_before in ids else 0
        start = max(start, end - limit)
    page = found[start : min(end, start + limit)]
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
    is_owner: Annotated[bool | None, Query()] = None,
    gender: Annotated[str | None, Query(max_length=20)] = None,
) -> dict[str, Any]:
    found = await voices.catalogue(ctx)
    if is_owner is not None:
        found = [v for v in found if v.is_owner == is_owner]
    if gender is not None:
        found = [v for v in found if _GENDERS.get(v.gender, "gender_neutral") == gender]
    return _page(found, limit, starting_after, ending_before)


async def _find(ctx: RequestContext, voice_id: str) -> ListedVoice:
    try:
        return await voices.find(ctx, ALIASES.voice(voice_id) or voice_id)
    except UnknownVoice:
        raise UnknownVoice(fields=("id",)) from None


@router.get("/voices/{voice_id}")
async def get_voice(voice_id: str, ctx: CatalogueContext) -> dict[str, Any]:
    return voice_shape(await _find(ctx, voice_id))


@router.delete("/voices/{voice_id}")
async def delete_voice(voice_id: str, ctx: CatalogueContext) -> dict[str, Any]:
    if not voices.is_workspace_voice(voice_id):
        await _find(ctx, voice_id)
        raise Forbidden("Built-in voices cannot be deleted.")
    await voices.delete(ctx, voice_id)
    return {}


CLONE_FORM = form_body(
    {
        "clip": {**AUDIO_FILE, "description": "A clip of the voice, a second or longer."},
        "name": {"type": "string", **NON_BLANK},
        "description": {"type": "string"},
        "language": {"type": "string", "enum": ["en"], "description": "Voices speak English."},
        "accent": {"type": "string"},
    },
    required=["clip", "name"],
)


@router.post("/voices/clone", openapi_extra=CLONE_FORM)
async def clone(request: Request, ctx: CloningContext) -> dict[str, Any]:
    form = await read_upload(request, ctx.settings)
    language = form.get("language") or "en"
    if language.split("-")[0].lower() != "en":
        raise InvalidRequest("This server's voices speak English only.", fields=["language"])
    description = form.get("description")
    ask = CloneAsk(
        name=Sensitive(form.get("name") or ""),
        samples=tuple(
            NewSample(file_name=f.filename, content_type=f.content_type, audio=f.data)
            for f in form.files.get("clip", [])
        ),
        description=Sensitive(description) if description else None,
        labels={"accent": a} if (a := form.get("accent")) else {},
        flags=RequestFlags(),
        samples_field="clip",
    )
    voice_id = await add_voice(ctx, ask, request.app.state.voice_jobs)
    return voice_shape(await voices.find(ctx, voice_id))
