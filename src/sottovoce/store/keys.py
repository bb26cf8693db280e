"""API keys: shown once at creation, stored only as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from sottovoce.errors import NotFound
from sottovoce.store.ids import new_id, now_ms
from sottovoce.store.schema import ApiKeyRow, WorkspaceRow
from sottovoce.store.workspaces import Workspace

KEY_PREFIX = "sv_"


@dataclass(frozen=True)
class ApiKey:
    id: str
    workspace_id: str
    is_admin: bool
    prefix: str


@dataclass(frozen=True)
class CreatedKey:
    key: ApiKey
    secret: str
    """The key itself: returned once, never stored."""


def hash_key(secret: str) -> str:
    # Keys are 256-bit random tokens, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def create(session: Session, workspace_id: str, is_admin: bool) -> CreatedKey:
    if session.get(WorkspaceRow, workspace_id) is None:
        raise NotFound("No such workspace.")
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKeyRow(
        id=new_id("key"),
        workspace_id=workspace_id,
        key_hash=hash_key(secret),
        prefix=secret[:10],
        is_admin=is_admin,
        created_at_ms=now_ms(),
    )
    session.add(row)
    session.flush()
    return CreatedKey(ApiKey(row.id, workspace_id, is_admin, row.prefix), secret)


def authenticate(session: Session, secret: str) -> tuple[ApiKey, Workspace] | None:
    """The key and its workspace, or None for an unknown or revoked key."""
    found = session.execute(
        select(ApiKeyRow, WorkspaceRow)
        .join(WorkspaceRow, WorkspaceRow.id == ApiKeyRow.workspace_id)
        .where(ApiKeyRow.key_hash == hash_key(secret), ApiKeyRow.revoked_at_ms.is_(None))
    ).first()
    if found is None:
        return None
    key_row, ws_row = found
    key = ApiKey(key_row.id, key_row.workspace_id, key_row.is_admin, key_row.prefix)
    return key, Workspace.from_row(ws_row)


def by_id(session: Session, key_id: str) -> tuple[ApiKey, Workspace] | None:
    """A key (not revoked) and its workspace, by the key's id (a signed URL names its key)."""
    found = session.execute(
        select(ApiKeyRow, WorkspaceRow)
        .join(WorkspaceRow, WorkspaceRow.id == ApiKeyRow.workspace_id)
        .where(ApiKeyRow.id == key_id, ApiKeyRow.revoked_at_ms.is_(None))
    ).first()
    if found is None:
        return None
    key_row, ws_row = found
    key = ApiKey(key_row.id, key_row.workspace_id, key_row.is_admin, key_row.prefix)
    return key, Workspace.from_row(ws_row)


def revoke(session: Session, key_id: str) -> None:
    row = session.get(ApiKeyRow, key_id)
    if row is None:
        raise NotFound("No such key.")
    if row.revoked_at_ms is None:
        row.revoked_at_ms = now_ms()


def standing(session: Session, key_ids: Collection[str]) -> dict[str, tuple[bool, Workspace]]:
    """Each of these keys that still exists: whether it is revoked, and its workspace as it is
    now. A key missing from the answer is gone (its workspace was deleted)."""
    if not key_ids:
        return {}
    rows = session.execute(
        select(ApiKeyRow.id, ApiKeyRow.revoked_at_ms, WorkspaceRow)
        .join(WorkspaceRow, WorkspaceRow.id == ApiKeyRow.workspace_id)
        .where(ApiKeyRow.id.in_(list(key_ids)))
    ).all()
    return {key_id: (revoked is not None, Workspace.from_row(ws)) for key_id, revoked, ws in rows}


@dataclass(frozen=True)
class ListedKey:
    """What a workspace admin sees of a key: never the key, only its first characters."""

    id: str
    prefix: str
    is_admin: bool
    created_at_ms: int
    revoked_at_ms: int | None


def list_for(session: Session, workspace_id: str) -> list[ListedKey]:
    rows = session.scalars(
        select(ApiKeyRow)
        .where(ApiKeyRow.workspace_id == workspace_id)
        .order_by(ApiKeyRow.created_at_ms, ApiKeyRow.id)
    )
    return [ListedKey(r.id, r.prefix, r.is_admin, r.created_at_ms, r.revoked_at_ms) for r in rows]


def revoke_in(session: Session, workspace_id: str, key_id: str) -> bool:
    """Revoke a key of this workspace (another workspace's key is not found); True if it was
    live until now."""
    row = session.get(ApiKeyRow, key_id)
    if row is None or row.workspace_id != workspace_id:
        raise NotFound("No such key.")
    if row.revoked_at_ms is not None:
        return False
    row.revoked_at_ms = now_ms()
    return True
