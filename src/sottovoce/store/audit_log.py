"""The append-only log of settings changes: who, when, which setting, old -> new."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from sottovoce.store.ids import now_ms
from sottovoce.store.schema import AuditLogRow


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at_ms: int
    actor: str
    setting: str
    old_value: object
    new_value: object


def _encode(value: object) -> str:
    return json.dumps(value)


def append(
    session: Session, workspace_id: str, actor: str, setting: str, old: object, new: object
) -> None:
    session.add(
        AuditLogRow(
            workspace_id=workspace_id,
            at_ms=now_ms(),
            actor=actor,
            setting=setting,
            old_value=_encode(old),
            new_value=_encode(new),
        )
    )


def list_for(session: Session, workspace_id: str, limit: int) -> list[AuditEntry]:
    rows = session.scalars(
        select(AuditLogRow)
        .where(AuditLogRow.workspace_id == workspace_id)
        .order_by(AuditLogRow.id)
        .limit(limit)
    )
    return [
        AuditEntry(
            id=r.id,
            at_ms=r.at_ms,
            actor=r.actor,
            setting=r.setting,
            old_value=json.loads(r.old_value) if r.old_value is not None else None,
            new_value=json.loads(r.new_value) if r.new_value is not None else None,
        )
        for r in rows
    ]
