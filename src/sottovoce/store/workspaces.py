"""Workspaces: the tenant, its plan and its retention settings."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from sottovoce.errors import NotFound
from sottovoce.privacy.policy import Plan, WorkspaceRetention, check_zdr_setting
from sottovoce.store import audit_log
from sottovoce.store.ids import new_id, now_ms
from sottovoce.store.schema import WorkspaceRow

# Settings an admin may change through the API, with the type each takes.
MUTABLE_SETTINGS: dict[str, type] = {
    "name": str,
    "zdr_enabled": bool,
    "allow_uncovered_providers": bool,
    "keep_input_audio": bool,
    "history_retention_days": int,
}


@dataclass(frozen=True)
class Workspace:
    id: str
    name: str
    plan: Plan
    zdr_enabled: bool
    restricted: bool
    restricted_reason: str | None
    allow_uncovered_providers: bool
    keep_input_audio: bool
    history_retention_days: int | None
    created_at_ms: int

    @property
    def retention(self) -> WorkspaceRetention:
        return WorkspaceRetention(
            zdr_enabled=self.zdr_enabled,
            plan=self.plan,
            restricted=self.restricted,
            restricted_reason=self.restricted_reason,
            allow_uncovered_providers=self.allow_uncovered_providers,
        )

    @classmethod
    def from_row(cls, row: WorkspaceRow) -> Workspace:
        return cls(
            id=row.id,
            name=row.name,
            plan=Plan(row.plan),
            zdr_enabled=row.zdr_enabled,
            restricted=row.restricted,
            restricted_reason=row.restricted_reason,
            allow_uncovered_providers=row.allow_uncovered_providers,
            keep_input_audio=row.keep_input_audio,
            history_retention_days=row.history_retention_days,
            created_at_ms=row.created_at_ms,
        )


def create(session: Session, name: str, plan: Plan, zdr_enabled: bool) -> Workspace:
    row = WorkspaceRow(
        id=new_id("ws"),
        name=name,
        plan=plan.value,
        zdr_enabled=False,
        restricted=False,
        allow_uncovered_providers=False,
        keep_input_audio=False,
        created_at_ms=now_ms(),
    )
    check_zdr_setting(Workspace.from_row(row).retention, zdr_enabled)
    row.zdr_enabled = zdr_enabled
    session.add(row)
    session.flush()
    return Workspace.from_row(row)


def get(session: Session, workspace_id: str) -> Workspace:
    row = session.get(WorkspaceRow, workspace_id)
    if row is None:
        raise NotFound("No such workspace.")
    return Workspace.from_row(row)


def list_all(session: Session) -> list[Workspace]:
    rows = session.scalars(select(WorkspaceRow).order_by(WorkspaceRow.created_at_ms))
    return [Workspace.from_row(r) for r in rows]


def update(
    session: Session, workspace_id: str, changes: dict[str, object], actor: str
) -> Workspace:
    """Apply settings changes, refusing unavailable ZDR, and write one audit entry per change."""
    row = session.get(WorkspaceRow, workspace_id, with_for_update=True)
    if row is None:
        raise NotFound("No such workspace.")
    current = Workspace.from_row(row)
    if "zdr_enabled" in changes:
        check_zdr_setting(current.retention, bool(changes["zdr_enabled"]))
    for setting, new in changes.items():
        old = getattr(row, setting)
        if old == new:
            continue
        setattr(row, setting, new)
        audit_log.append(session, workspace_id, actor, setting, old, new)
    session.flush()
    return Workspace.from_row(row)


def restrict(session: Session, workspace_id: str, reason: str | None) -> Workspace:
    """Operator action: withdraw ZDR (restricted workspaces may not have it) and say why."""
    row = session.get(WorkspaceRow, workspace_id, with_for_update=True)
    if row is None:
        raise NotFound("No such workspace.")
    for setting, new in (("restricted", reason is not None), ("restricted_reason", reason)):
        old = getattr(row, setting)
        if old != new:
            setattr(row, setting, new)
            audit_log.append(session, workspace_id, "operator", setting, old, new)
    if reason is not None and row.zdr_enabled:
        row.zdr_enabled = False
        audit_log.append(session, workspace_id, "operator", "zdr_enabled", True, False)
    session.flush()
    return Workspace.from_row(row)


def set_plan(session: Session, workspace_id: str, plan: Plan) -> Workspace:
    """Operator action: change the plan; leaving enterprise withdraws ZDR."""
    row = session.get(WorkspaceRow, workspace_id, with_for_update=True)
    if row is None:
        raise NotFound("No such workspace.")
    if row.plan != plan.value:
        audit_log.append(session, workspace_id, "operator", "plan", row.plan, plan.value)
        row.plan = plan.value
    if plan is not Plan.ENTERPRISE and row.zdr_enabled:
        row.zdr_enabled = False
        audit_log.append(session, workspace_id, "operator", "zdr_enabled", True, False)
    session.flush()
    return Workspace.from_row(row)
