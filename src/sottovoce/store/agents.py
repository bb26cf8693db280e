"""Voice agents: a sealed document per agent, and its privacy settings in the clear.

The document (name, prompt, first message, voice, tools...) is the customer's content: it is
sealed with AES-GCM under a key of the agent's own in the key store, as a history item is, so
deleting the agent (or its workspace) destroys the key and every copy of the document with it.
The privacy settings are metadata the sweeper and the retention policy read without a key.
Changes to them are written to the workspace's audit log.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sottovoce.errors import NotFound
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.store import audit_log
from sottovoce.store.encryption import open_sealed, seal
from sottovoce.store.ids import new_id, now_ms
from sottovoce.store.keystore import KeyStore
from sottovoce.store.schema import AgentRow

UNLIMITED = -1
DEFAULT_RETENTION_DAYS = 730
"""ElevenLabs keeps agent conversations two years by default; so do we, unless told."""


class AgentNotFound(NotFound):
    code = "agent_not_found"
    default_message = "No such agent."


@dataclass(frozen=True)
class AgentPrivacy:
    """What a conversation with the agent may leave behind."""

    zero_retention_mode: bool = False
    """Nothing but a content-free usage record (and the workspace's ZDR does the same)."""
    record_voice: bool = False
    """Keep the recording (both sides, 16 kHz) with a retained transcript."""
    retention_days: int = DEFAULT_RETENTION_DAYS
    """Days a retained conversation is kept (-1: until deleted)."""
    delete_audio: bool = False
    """Never keep audio, whatever ``record_voice`` says."""
    redact_pii: bool = False
    """Redact personal data from the transcript before it is stored."""

    @property
    def keeps_audio(self) -> bool:
        # A recording cannot be redacted the way a transcript can: redaction drops it.
        return self.record_voice and not self.delete_audio and not self.redact_pii


@dataclass(frozen=True)
class StoredAgent:
    id: str
    workspace_id: str
    created_at_ms: int
    updated_at_ms: int
    privacy: AgentPrivacy
    document: Sensitive[dict[str, Any]]


@dataclass(frozen=True)
class AgentPage:
    agents: list[StoredAgent]
    has_more: bool
    next_cursor: str | None


def _keystore(session: Session) -> KeyStore:
    keystore: KeyStore = session.info["keystore"]
    return keystore


def _aad(agent_id: str) -> bytes:
    return f"{agent_id}:agent".encode()


def _seal(key: bytes, agent_id: str, document: Sensitive[dict[str, Any]]) -> bytes:
    return seal(key, json.dumps(document.reveal()).encode(), _aad(agent_id))


def _privacy(row: AgentRow) -> AgentPrivacy:
    return AgentPrivacy(
        zero_retention_mode=row.zero_retention_mode,
        record_voice=row.record_voice,
        retention_days=row.retention_days,
        delete_audio=row.delete_audio,
        redact_pii=row.redact_pii,
    )


def _stored(row: AgentRow, key: bytes) -> StoredAgent:
    document = json.loads(open_sealed(key, row.document, _aad(row.id)))
    return StoredAgent(
        id=row.id,
        workspace_id=row.workspace_id,
        created_at_ms=row.created_at_ms,
        updated_at_ms=row.updated_at_ms,
        privacy=_privacy(row),
        document=Sensitive(document),
    )


def create(
    session: Session,
    workspace_id: str,
    document: Sensitive[dict[str, Any]],
    privacy: AgentPrivacy,
    actor: str,
) -> StoredAgent:
    agent_id = new_id("agent")
    key = _keystore(session).new_item_key(workspace_id, agent_id)
    at = now_ms()
    row = AgentRow(
        id=agent_id,
        workspace_id=workspace_id,
        created_at_ms=at,
        updated_at_ms=at,
        document=_seal(key, agent_id, document),
        **asdict(privacy),
    )
    session.add(row)
    session.flush()
    for name, value in asdict(privacy).items():
        audit_log.append(session, workspace_id, actor, f"agent.{agent_id}.{name}", None, value)
    return _stored(row, key)


def _row(session: Session, workspace_id: str, agent_id: str) -> tuple[AgentRow, bytes]:
    row = session.get(AgentRow, agent_id)
    key = _keystore(session).item_keys(workspace_id, [agent_id]).get(agent_id)
    if row is None or row.workspace_id != workspace_id or key is None:
        raise AgentNotFound()
    return row, key


def get(session: Session, workspace_id: str, agent_id: str) -> StoredAgent:
    return _stored(*_row(session, workspace_id, agent_id))


def update(
    session: Session,
    workspace_id: str,
    agent_id: str,
    document: Sensitive[dict[str, Any]],
    privacy: AgentPrivacy,
    actor: str,
) -> StoredAgent:
    row, key = _row(session, workspace_id, agent_id)
    old = asdict(_privacy(row))
    for name, value in asdict(privacy).items():
        if old[name] != value:
            audit_log.append(
                session, workspace_id, actor, f"agent.{agent_id}.{name}", old[name], value
            )
            setattr(row, name, value)
    row.document = _seal(key, agent_id, document)
    row.updated_at_ms = now_ms()
    session.flush()
    return _stored(row, key)


def delete(session: Session, workspace_id: str, agent_id: str) -> None:
    """Delete the agent and destroy its key. Its retained conversations stay until they are
    deleted or expire (they are the workspace's records, not the agent's settings)."""
    row, _key = _row(session, workspace_id, agent_id)
    session.delete(row)
    session.flush()
    _keystore(session).destroy_items([agent_id])


def list_page(
    session: Session, workspace_id: str, page_size: int, cursor: str | None = None
) -> AgentPage:
    """Newest first; ``cursor`` is the last agent id of the previous page."""
    query = select(AgentRow).where(AgentRow.workspace_id == workspace_id)
    if cursor is not None:
        query = query.where(AgentRow.id < cursor)
    rows = list(session.scalars(query.order_by(AgentRow.id.desc()).limit(page_size + 1)))
    keys = _keystore(session).item_keys(workspace_id, [r.id for r in rows])
    agents = [_stored(r, keys[r.id]) for r in rows[:page_size] if r.id in keys]
    more = len(rows) > page_size
    return AgentPage(agents, more, agents[-1].id if more and agents else None)
