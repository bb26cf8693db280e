"""Stored chat completions (``store: true``), kept as history items with source ``LLM``.

A completion's id is ``chatcmpl-`` + the id of the request that made it: the id is known
before the first streamed chunk, and the history item records the request id, so a stored
completion is found by it. The item's ``details`` hold the reply (its text, finish reason,
token counts and creation time) and the messages that asked for it (encrypted with the rest of
the history); the surface renders them in its own shape. Items written before the reply was
kept this way hold OpenAI's ``chat.completion`` object instead, and are read as a reply.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sottovoce.errors import NotFound
from sottovoce.privacy.eligibility import HistorySource
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.store import history
from sottovoce.store.history import HistoryFilter
from sottovoce.store.schema import HistoryRow

ID_PREFIX = "chatcmpl-"


def completion_id(request_id: str) -> str:
    return ID_PREFIX + request_id


@dataclass(frozen=True)
class StoredCompletion:
    id: str
    model_id: str | None
    created_at_ms: int
    reply: Sensitive[dict[str, Any]]
    """``content``, ``finish_reason``, ``prompt_tokens``, ``completion_tokens``, ``created``."""
    messages: Sensitive[list[dict[str, Any]]]


@dataclass(frozen=True)
class CompletionPage:
    items: list[StoredCompletion]
    has_more: bool


class CompletionNotFound(NotFound):
    code = "chat_completion_not_found"
    default_message = "No stored chat completion with this id."


def _history_id(session: Session, workspace_id: str, cmpl_id: str) -> str:
    if not cmpl_id.startswith(ID_PREFIX):
        raise CompletionNotFound()
    row_id = session.scalar(
        select(HistoryRow.id).where(
            HistoryRow.workspace_id == workspace_id,
            HistoryRow.source == HistorySource.LLM.value,
            HistoryRow.request_id == cmpl_id.removeprefix(ID_PREFIX),
        )
    )
    if row_id is None:
        raise CompletionNotFound()
    return row_id


def _reply(details: dict[str, Any], created_at_ms: int) -> dict[str, Any]:
    if "reply" in details:
        return dict(details["reply"])
    old = details.get("completion") or {}  # an OpenAI ``chat.completion`` object
    choice = (old.get("choices") or [{}])[0]
    usage = old.get("usage") or {}
    return {
        "content": (choice.get("message") or {}).get("content") or "",
        "finish_reason": choice.get("finish_reason") or "stop",
        "prompt_tokens": usage.get("prompt_tokens", 0),
        "completion_tokens": usage.get("completion_tokens", 0),
        "created": old.get("created", created_at_ms // 1000),
    }


def _stored(item: history.HistoryItem) -> StoredCompletion:
    details = item.details.reveal() if item.details is not None else {}
    return StoredCompletion(
        id=completion_id(item.request_id),
        model_id=item.model_id,
        created_at_ms=item.created_at_ms,
        reply=Sensitive(_reply(details, item.created_at_ms)),
        messages=Sensitive(list(details.get("messages") or [])),
    )


def get(session: Session, workspace_id: str, cmpl_id: str) -> StoredCompletion:
    item_id = _history_id(session, workspace_id, cmpl_id)
    return _stored(history.get(session, workspace_id, item_id))


def delete(session: Session, workspace_id: str, cmpl_id: str) -> None:
    history.delete(session, workspace_id, _history_id(session, workspace_id, cmpl_id))


def list_page(
    session: Session,
    workspace_id: str,
    *,
    limit: int,
    after: str | None = None,
    model_id: str | None = None,
    descending: bool = False,
) -> CompletionPage:
    start = _history_id(session, workspace_id, after) if after is not None else None
    page = history.list_page(
        session,
        workspace_id,
        HistoryFilter(
            page_size=limit,
            start_after_id=start,
            model_id=model_id,
            source=HistorySource.LLM.value,
            descending=descending,
        ),
    )
    return CompletionPage([_stored(i) for i in page.items], page.has_more)
