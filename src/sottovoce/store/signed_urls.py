"""Signed conversation URLs: single use, short-lived, stored only as a hash.

``GET /v1/convai/conversation/get-signed-url`` hands a client (a browser, a phone) a URL that
opens one agent's conversation socket without the workspace's key. The signature is random;
only its SHA-256 is stored, with the key that asked for it, the agent and an expiry. Opening
the socket takes (deletes) the row, so a signature works once; expired rows are swept.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from sottovoce.store.ids import now_ms
from sottovoce.store.schema import SignedUrlRow


@dataclass(frozen=True)
class Grant:
    """What a signature allowed: which key (of which workspace) opened which agent."""

    workspace_id: str
    key_id: str
    agent_id: str


def _hash(signature: str) -> str:
    return hashlib.sha256(signature.encode()).hexdigest()


def issue(session: Session, grant: Grant, ttl_s: float) -> str:
    """A new signature for ``grant``, valid once within ``ttl_s`` seconds."""
    signature = secrets.token_urlsafe(32)
    session.add(
        SignedUrlRow(
            token_hash=_hash(signature),
            workspace_id=grant.workspace_id,
            key_id=grant.key_id,
            agent_id=grant.agent_id,
            expires_at_ms=now_ms() + int(ttl_s * 1000),
        )
    )
    session.flush()
    return signature


def redeem(session: Session, signature: str) -> Grant | None:
    """The grant of a valid signature, used up now; ``None`` if unknown, used or expired."""
    row = session.scalars(
        select(SignedUrlRow).where(SignedUrlRow.token_hash == _hash(signature)).with_for_update()
    ).one_or_none()
    if row is None:
        return None
    grant = Grant(row.workspace_id, row.key_id, row.agent_id)
    expired = row.expires_at_ms < now_ms()
    # Deleted in the same transaction: of two sockets racing with one signature, one wins.
    taken = session.execute(delete(SignedUrlRow).where(SignedUrlRow.token_hash == row.token_hash))
    if expired or getattr(taken, "rowcount", 1) != 1:
        return None
    return grant


def delete_expired(session: Session, now: int) -> int:
    result = session.execute(delete(SignedUrlRow).where(SignedUrlRow.expires_at_ms < now))
    return int(getattr(result, "rowcount", 0) or 0)
