"""Workspace settings and their audit log: ``GET``/``PATCH /v1/workspace``, ``/audit-log``."""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from sottovoce.api.deps import context
from sottovoce.api.params import not_null
from sottovoce.errors import AdminRequired, InvalidRequest
from sottovoce.privacy.eligibility import Product
from sottovoce.services.context import RequestContext
from sottovoce.store import audit_log, workspaces
from sottovoce.store.workspace_deletion import delete_workspace as delete_workspace_data
from sottovoce.store.workspaces import Workspace

router = APIRouter(prefix="/v1/workspace", tags=["workspace"])
WorkspaceContext = Annotated[RequestContext, Depends(context(Product.WORKSPACE))]


class WorkspaceOut(BaseModel):
    workspace_id: str
    name: str
    plan: str
    zdr_enabled: bool
    zdr_available: bool
    restricted: bool
    restricted_reason: str | None
    allow_uncovered_providers: bool
    keep_input_audio: bool
    history_retention_days: int | None
    created_at_unix: int
    is_admin_key: bool

    @classmethod
    def of(cls, ws: Workspace, is_admin: bool) -> WorkspaceOut:
        return cls(
            workspace_id=ws.id,
            name=ws.name,
            plan=ws.plan.value,
            zdr_enabled=ws.zdr_enabled,
            zdr_available=ws.plan.value == "enterprise" and not ws.restricted,
            restricted=ws.restricted,
            restricted_reason=ws.restricted_reason,
            allow_uncovered_providers=ws.allow_uncovered_providers,
            keep_input_audio=ws.keep_input_audio,
            history_retention_days=ws.history_retention_days,
            created_at_unix=ws.created_at_ms // 1000,
            is_admin_key=is_admin,
        )


def whole_number(value: object) -> object:
    """JSON Schema's integer, which the document declares, counts 30.0 as one (not 30.5)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


class WorkspacePatch(BaseModel):
    """Only the settings sent change. Only ``history_retention_days`` may be null (keep history
    until it is deleted): the others are refused as null, and the document says so."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: str | None = Field(default=None, min_length=1, max_length=200, json_schema_extra=not_null)
    zdr_enabled: bool | None = Field(default=None, json_schema_extra=not_null)
    allow_uncovered_providers: bool | None = Field(default=None, json_schema_extra=not_null)
    keep_input_audio: bool | None = Field(default=None, json_schema_extra=not_null)
    history_retention_days: (
        Annotated[int, Field(ge=1, le=36500), BeforeValidator(whole_number)] | None
    ) = None


class AuditEntryOut(BaseModel):
    id: int
    at_unix_ms: int
    actor: str
    setting: str
    old_value: Any
    new_value: Any


class AuditLogOut(BaseModel):
    entries: list[AuditEntryOut]


@router.get("")
async def get_workspace(ctx: WorkspaceContext) -> WorkspaceOut:
    return WorkspaceOut.of(ctx.workspace, ctx.key.is_admin)


@router.patch("")
async def patch_workspace(patch: WorkspacePatch, ctx: WorkspaceContext) -> WorkspaceOut:
    if not ctx.key.is_admin:
        raise AdminRequired()
    changes = patch.model_dump(exclude_unset=True)
    if any(v is None and k != "history_retention_days" for k, v in changes.items()):
        raise InvalidRequest(
            "Settings cannot be null.", fields=[k for k, v in changes.items() if v is None]
        )
    updated = await ctx.run_in_session(
        lambda s: workspaces.update(s, ctx.workspace.id, changes, actor=ctx.key.id)
    )
    ctx.services.sessions.poke()  # open sockets decided under the old terms are closed now
    return WorkspaceOut.of(updated, ctx.key.is_admin)


@router.get("/audit-log")
async def get_audit_log(
    ctx: WorkspaceContext, limit: Annotated[int, Query(ge=1, le=10_000)] = 1000
) -> AuditLogOut:
    entries = await ctx.run_in_session(lambda s: audit_log.list_for(s, ctx.workspace.id, limit))
    return AuditLogOut(
        entries=[
            AuditEntryOut(
                id=e.id,
                at_unix_ms=e.at_ms,
                actor=e.actor,
                setting=e.setting,
                old_value=e.old_value,
                new_value=e.new_value,
            )
            for e in entries
        ]
    )


class DeletedOut(BaseModel):
    status: str
    workspace_id: str


@router.delete("")
async def delete_workspace(
    ctx: WorkspaceContext,
    confirm: Annotated[str, Query(max_length=64, description="the workspace id")],
) -> DeletedOut:
    """Delete this workspace and everything it owns. Admin key, and ``?confirm=<workspace_id>``."""
    if not ctx.key.is_admin:
        raise AdminRequired()
    if confirm != ctx.workspace.id:
        raise InvalidRequest(
            "Deleting a workspace needs ?confirm= set to its workspace id.", fields=["confirm"]
        )
    keep = ctx.services.settings.retention.keep_billing_totals
    await ctx.run_in_session(
        lambda s: delete_workspace_data(s, ctx.workspace.id, keep_billing_totals=keep)
    )
    await anyio.to_thread.run_sync(ctx.services.store.checkpoint)
    ctx.services.sessions.poke()
    ctx.usage.workspace_deleted = True
    return DeletedOut(status="deleted", workspace_id=ctx.workspace.id)
