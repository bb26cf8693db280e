"""ElevenLabs conversations: the retained ones, listed, fetched, their audio, deleted.

Only conversations that were retained have anything here: a conversation under zero retention
(the agent's or the workspace's) left nothing but its usage records. The transcript comes back
as it was stored: redacted, when the agent asked for redaction.
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from sottovoce.api.deps import context
from sottovoce.privacy.eligibility import Product
from sottovoce.services.context import RequestContext
from sottovoce.store import conversations
from sottovoce.store.conversations import ConversationMeta

router = APIRouter(prefix="/v1/convai/conversations", tags=["ElevenLabs: conversations"])
ConversationContext = Annotated[RequestContext, Depends(context(Product.AGENT))]


def _summary(meta: ConversationMeta) -> dict[str, Any]:
    return {
        "agent_id": meta.agent_id,
        "conversation_id": meta.id,
        "start_time_unix_secs": meta.started_at_ms // 1000,
        "call_duration_secs": meta.duration_ms // 1000,
        "message_count": meta.message_count,
        "status": meta.status,
        "call_successful": "success" if meta.status == "done" else "failure",
        "termination_reason": meta.termination_reason,
    }


@router.get("")
async def list_conversations(
    ctx: ConversationContext,
    agent_id: Annotated[str | None, Query(max_length=80)] = None,
    cursor: Annotated[str | None, Query(max_length=80)] = None,
    page_size: Annotated[int, Query(ge=1, le=100)] = 30,
) -> dict[str, Any]:
    page = await ctx.run_in_session(
        lambda s: conversations.list_page(s, ctx.workspace.id, page_size, cursor, agent_id)
    )
    return {
        "conversations": [_summary(m) for m in page.conversations],
        "has_more": page.has_more,
        "next_cursor": page.next_cursor,
    }


@router.get("/{conversation_id}")
async def get_conversation(conversation_id: str, ctx: ConversationContext) -> dict[str, Any]:
    meta, item = await ctx.run_in_session(
        lambda s: conversations.get(s, ctx.workspace.id, conversation_id)
    )
    # The response writer: the one place a conversation's transcript is revealed.
    details = item.details.reveal() if item.details is not None else {}
    return {
        **_summary(meta),
        "transcript": details.get("transcript", []),
        "metadata": {
            "start_time_unix_secs": meta.started_at_ms // 1000,
            "call_duration_secs": meta.duration_ms // 1000,
            "termination_reason": meta.termination_reason,
            "deletion_settings": {
                "deletion_time_unix_secs": (
                    meta.expires_at_ms // 1000 if meta.expires_at_ms is not None else None
                )
            },
        },
        "has_audio": meta.has_audio,
        "has_user_audio": meta.has_audio,
        "has_response_audio": meta.has_audio,
        "has_auxiliary_audio": False,
    }


@router.get("/{conversation_id}/audio")
async def get_conversation_audio(conversation_id: str, ctx: ConversationContext) -> Response:
    audio, media_type = await ctx.run_in_session(
        lambda s: conversations.get_audio(s, ctx.workspace.id, conversation_id)
    )
    return Response(audio.reveal(), media_type=media_type)


@router.delete("/{conversation_id}")
async def delete_conversation(conversation_id: str, ctx: ConversationContext) -> dict[str, Any]:
    await ctx.run_in_session(lambda s: conversations.delete(s, ctx.workspace.id, conversation_id))
    await anyio.to_thread.run_sync(ctx.services.store.checkpoint)
    return {}
