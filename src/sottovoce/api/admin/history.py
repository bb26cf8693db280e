"""History, in ElevenLabs' shape: list, fetch, audio, delete.

Deleting an item removes its row at once and checkpoints the SQLite write-ahead log, so its
bytes are gone from the database files (``secure_delete`` zeroes freed pages).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel

from sottovoce.api.deps import context
from sottovoce.api.params import MAX_UNIX_SECONDS
from sottovoce.privacy.eligibility import Product
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.services.context import RequestContext
from sottovoce.store import history
from sottovoce.store.history import HistoryFilter, HistoryItem

router = APIRouter(prefix="/v1/history", tags=["history"])
HistoryContext = Annotated[RequestContext, Depends(context(Product.HISTORY))]


class HistoryItemOut(BaseModel):
    history_item_id: str
    request_id: str
    voice_id: str | None
    model_id: str | None
    voice_name: str | None
    voice_category: str | None
    text: str | None
    date_unix: int
    character_count_change_from: int
    character_count_change_to: int
    content_type: str | None
    state: str
    settings: dict[str, Any]
    feedback: None = None
    share_link_id: None = None
    source: str
    alignments: Any = None
    dialogue: Any = None
    output_format: str | None
    details: dict[str, Any] | None = None

    @classmethod
    def of(cls, item: HistoryItem) -> HistoryItemOut:
        # The response writer: the one place a history item's content is revealed.
        details = item.details.reveal() if item.details is not None else None
        return cls(
            history_item_id=item.id,
            request_id=item.request_id,
            voice_id=item.voice_id,
            model_id=item.model_id,
            voice_name=item.voice_name,
            voice_category="premade" if item.voice_id else None,
            text=item.text.reveal() if item.text is not None else None,
            date_unix=item.created_at_ms // 1000,
            character_count_change_from=0,
            character_count_change_to=item.character_count,
            content_type=item.content_type,
            state="created",
            settings=item.settings,
            source=item.source,
            alignments=(details or {}).get("alignments"),
            dialogue=(details or {}).get("dialogue"),
            output_format=item.output_format,
            details=details,
        )


class HistoryPageOut(BaseModel):
    history: list[HistoryItemOut]
    last_history_item_id: str | None
    has_more: bool
    scanned_until: int | None


@router.get("")
async def list_history(
    ctx: HistoryContext,
    page_size: Annotated[int, Query(ge=1, le=1000)] = 100,
    start_after_history_item_id: Annotated[str | None, Query(max_length=64)] = None,
    voice_id: Annotated[str | None, Query(max_length=100)] = None,
    model_id: Annotated[str | None, Query(max_length=100)] = None,
    date_before_unix: Annotated[int | None, Query(ge=0, le=MAX_UNIX_SECONDS)] = None,
    date_after_unix: Annotated[int | None, Query(ge=0, le=MAX_UNIX_SECONDS)] = None,
    sort_direction: Literal["asc", "desc"] = "desc",
    search: Annotated[str | None, Query(max_length=1000)] = None,
    source: Annotated[str | None, Query(max_length=20)] = None,
) -> HistoryPageOut:
    f = HistoryFilter(
        page_size=page_size,
        start_after_id=start_after_history_item_id,
        voice_id=voice_id,
        model_id=model_id,
        source=source,
        date_before_ms=date_before_unix * 1000 if date_before_unix is not None else None,
        date_after_ms=date_after_unix * 1000 + 999 if date_after_unix is not None else None,
        descending=sort_direction == "desc",
        search=Sensitive(search) if search else None,
    )
    page = await ctx.run_in_session(lambda s: history.list_page(s, ctx.workspace.id, f))
    return HistoryPageOut(
        history=[HistoryItemOut.of(i) for i in page.items],
        last_history_item_id=page.items[-1].id if page.items else None,
        has_more=page.has_more,
        scanned_until=page.scanned_until_ms // 1000 if page.scanned_until_ms else None,
    )


@router.get("/{history_item_id}")
async def get_history_item(history_item_id: str, ctx: HistoryContext) -> HistoryItemOut:
    item = await ctx.run_in_session(lambda s: history.get(s, ctx.workspace.id, history_item_id))
    return HistoryItemOut.of(item)


@router.get("/{history_item_id}/audio")
async def get_history_audio(history_item_id: str, ctx: HistoryContext) -> Response:
    audio, content_type = await ctx.run_in_session(
        lambda s: history.get_audio(s, ctx.workspace.id, history_item_id)
    )
    return Response(content=audio.reveal(), media_type=content_type)


@router.delete("/{history_item_id}")
async def delete_history_item(history_item_id: str, ctx: HistoryContext) -> dict[str, str]:
    await ctx.run_in_session(lambda s: history.delete(s, ctx.workspace.id, history_item_id))
    await anyio.to_thread.run_sync(ctx.services.store.checkpoint)
    return {"status": "ok"}
