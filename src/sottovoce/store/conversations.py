"""Retained agent conversations: metadata here, content in history (source ``ConvAI``).

A conversation that may be kept is saved, when it ends, as one history item (the redacted
transcript in its ``details``, the recording as its audio when the agent keeps one), through
the request context's ``retain()`` like every other product's content; this module then
records the conversation's metadata beside it: agent, start, duration, message count, status,
and when it expires (the agent's ``retention_days``). Deleting a conversation deletes its
history item (and destroys the item's key); the sweeper deletes expired ones. A conversation
under zero retention has no row here at all, only its usage records.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from sottovoce.errors import NotFound
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.store import history
from sottovoce.store.backups import DAY_MS
from sottovoce.store.history import HistoryItem
from sottovoce.store.schema import ConversationRow, HistoryRow


class ConversationNotFound(NotFound):
    code = "conversation_not_found"
    default_message = "No such conversation."


@dataclass(frozen=True)
class ConversationMeta:
    id: str
    workspace_id: str
    agent_id: str
    history_item_id: str
    started_at_ms: int
    duration_ms: int
    message_count: int
    status: str
    """``done`` or ``failed``."""
    termination_reason: str | None
    has_audio: bool
    expires_at_ms: int | None


@dataclass(frozen=True)
class ConversationPage:
    conversations: list[ConversationMeta]
    has_more: bool
    next_cursor: str | None


def expiry(started_at_ms: int, retention_days: int) -> int | None:
    return None if retention_days < 0 else started_at_ms + retention_days * DAY_MS


def _meta(row: ConversationRow) -> ConversationMeta:
    return ConversationMeta(
        id=row.id,
        workspace_id=row.workspace_id,
        agent_id=row.agent_id,
        history_item_id=row.history_item_id,
        started_at_ms=row.started_at_ms,
        duration_ms=row.duration_ms,
        message_count=row.message_count,
        status=row.status,
        termination_reason=row.termination_reason,
        has_audio=row.has_audio,
        expires_at_ms=row.expires_at_ms,
    )


def record(session: Session, meta: ConversationMeta) -> None:
    session.add(ConversationRow(**meta.__dict__))
    session.flush()


def _row(session: Session, workspace_id: str, conversation_id: str) -> ConversationRow:
    row = session.get(ConversationRow, conversation_id)
    if row is None or row.workspace_id != workspace_id:
        raise ConversationNotFound()
    return row


def get(
    session: Session, workspace_id: str, conversation_id: str
) -> tuple[ConversationMeta, HistoryItem]:
    row = _row(session, workspace_id, conversation_id)
    try:
        item = history.get(session, workspace_id, row.history_item_id)
    except NotFound:  # its content was deleted (through /v1/history): the conversation is gone
        raise ConversationNotFound() from None
    return _meta(row), item


def get_audio(
    session: Session, workspace_id: str, conversation_id: str
) -> tuple[Sensitive[bytes], str]:
    row = _row(session, workspace_id, conversation_id)
    if not row.has_audio:
        raise NotFound("This conversation has no recording.")
    try:
        return history.get_audio(session, workspace_id, row.history_item_id)
    except NotFound:
        raise ConversationNotFound() from None


def delete(session: Session, workspace_id: str, conversation_id: str) -> None:
    row = _row(session, workspace_id, conversation_id)
    item_id = row.history_item_id
    session.delete(row)
    session.flush()
    with contextlib.suppress(NotFound):
        history.delete(session, workspace_id, item_id)


def list_page(
    session: Session,
    workspace_id: str,
    page_size: int,
    cursor: str | None = None,
    agent_id: str | None = None,
) -> ConversationPage:
    """Newest first; ``cursor`` is the last conversation id of the previous page."""
    query = select(ConversationRow).where(ConversationRow.workspace_id == workspace_id)
    if agent_id is not None:
        query = query.where(ConversationRow.agent_id == agent_id)
    if cursor is not None:
        query = query.where(ConversationRow.id < cursor)
    rows = list(session.scalars(query.order_by(ConversationRow.id.desc()).limit(page_size + 1)))
    page = [_meta(r) for r in rows[:page_size]]
    more = len(rows) > page_size
    return ConversationPage(page, more, page[-1].id if more and page else None)


def apply_retention(
    session: Session, workspace_id: str, agent_id: str, retention_days: int
) -> None:
    """Existing conversations of an agent take its new retention period (from their start)."""
    rows = session.scalars(
        select(ConversationRow).where(
            ConversationRow.workspace_id == workspace_id, ConversationRow.agent_id == agent_id
        )
    )
    for row in rows:
        row.expires_at_ms = expiry(row.started_at_ms, retention_days)
    session.flush()


def drop_audio(session: Session, workspace_id: str, agent_id: str) -> None:
    """Existing conversations of an agent lose their recordings (``delete_audio``)."""
    rows = list(
        session.scalars(
            select(ConversationRow).where(
                ConversationRow.workspace_id == workspace_id,
                ConversationRow.agent_id == agent_id,
                ConversationRow.has_audio.is_(True),
            )
        )
    )
    for row in rows:
        history_row = session.get(HistoryRow, row.history_item_id)
        if history_row is not None:
            history_row.audio = None
            history_row.content_type = None
        row.has_audio = False
    session.flush()


def delete_expired(session: Session, now: int) -> int:
    """Delete conversations past their expiry, and those whose history item is gone."""
    expired = list(
        session.scalars(select(ConversationRow).where(ConversationRow.expires_at_ms < now))
    )
    orphans = list(
        session.scalars(
            select(ConversationRow).where(
                ~ConversationRow.history_item_id.in_(select(HistoryRow.id))
            )
        )
    )
    doomed = {row.id: row for row in [*expired, *orphans]}
    for row in doomed.values():
        item_id, workspace_id = row.history_item_id, row.workspace_id
        session.delete(row)
        session.flush()
        with contextlib.suppress(NotFound):
            history.delete(session, workspace_id, item_id)
    return len(doomed)
