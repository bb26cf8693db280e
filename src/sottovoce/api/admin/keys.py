"""A workspace's API keys, for its admin: ``GET``/``POST /v1/workspace/keys``, ``DELETE
/v1/workspace/keys/{key_id}``.

A new key is shown once, in the reply that creates it, and stored only as its hash. Creating
and revoking keys are written to the workspace's audit log (who, when, which key).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from sottovoce.api.deps import context
from sottovoce.errors import AdminRequired, Conflict
from sottovoce.privacy.eligibility import Product
from sottovoce.services.context import RequestContext
from sottovoce.store import audit_log, keys
from sottovoce.store.keys import ListedKey

router = APIRouter(prefix="/v1/workspace/keys", tags=["workspace"])
KeysContext = Annotated[RequestContext, Depends(context(Product.WORKSPACE))]


class KeyOut(BaseModel):
    key_id: str
    prefix: str
    is_admin: bool
    created_at_unix: int
    revoked_at_unix: int | None
    is_current: bool
    """The key this request was made with."""

    @classmethod
    def of(cls, key: ListedKey, current_id: str) -> KeyOut:
        return cls(
            key_id=key.id,
            prefix=key.prefix,
            is_admin=key.is_admin,
            created_at_unix=key.created_at_ms // 1000,
            revoked_at_unix=key.revoked_at_ms // 1000 if key.revoked_at_ms else None,
            is_current=key.id == current_id,
        )


class KeysOut(BaseModel):
    keys: list[KeyOut]


class NewKey(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    is_admin: bool = False


class CreatedKeyOut(BaseModel):
    key_id: str
    api_key: str
    """The key itself: shown in this reply only."""
    is_admin: bool


def _admin(ctx: RequestContext) -> None:
    if not ctx.key.is_admin:
        raise AdminRequired()


@router.get("")
async def list_keys(ctx: KeysContext) -> KeysOut:
    _admin(ctx)
    listed = await ctx.run_in_session(lambda s: keys.list_for(s, ctx.workspace.id))
    return KeysOut(keys=[KeyOut.of(k, ctx.key.id) for k in listed])


@router.post("")
async def create_key(new: NewKey, ctx: KeysContext) -> CreatedKeyOut:
    _admin(ctx)

    def create(session: Session) -> keys.CreatedKey:
        created = keys.create(session, ctx.workspace.id, is_admin=new.is_admin)
        setting = "admin_key_created" if new.is_admin else "api_key_created"
        audit_log.append(session, ctx.workspace.id, ctx.key.id, setting, None, created.key.id)
        return created

    created = await ctx.run_in_session(create)
    return CreatedKeyOut(key_id=created.key.id, api_key=created.secret, is_admin=new.is_admin)


@router.delete("/{key_id}")
async def revoke_key(key_id: str, ctx: KeysContext) -> dict[str, str]:
    _admin(ctx)
    if key_id == ctx.key.id:
        # Revoking the key in hand would lock its holder out mid-way; use another admin key.
        raise Conflict("A key cannot revoke itself.")

    def revoke(session: Session) -> None:
        if keys.revoke_in(session, ctx.workspace.id, key_id):
            audit_log.append(session, ctx.workspace.id, ctx.key.id, "api_key_revoked", key_id, None)

    await ctx.run_in_session(revoke)
    return {"status": "revoked", "key_id": key_id}
