"""Deleting a workspace deletes everything it owns, and destroys its key.

Its API keys, history, voices (and their samples), agents, conversations, usage records,
settings and audit log go from the database at once; its workspace key and item keys (history
items', voices' and agents') go from the key store, so no backup, old or new, can be decrypted
for it afterwards. If configured, content-free usage totals per product are kept for billing.
"""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session

from sottovoce.errors import NotFound
from sottovoce.store import usage
from sottovoce.store.ids import now_ms
from sottovoce.store.keystore import KeyStore
from sottovoce.store.schema import (
    AgentRow,
    ApiKeyRow,
    AuditLogRow,
    BillingTotalRow,
    ConversationRow,
    HistoryRow,
    SignedUrlRow,
    UsageRow,
    VoiceRow,
    VoiceSampleRow,
    WorkspaceRow,
)


def delete_workspace(session: Session, workspace_id: str, *, keep_billing_totals: bool) -> None:
    if session.get(WorkspaceRow, workspace_id) is None:
        raise NotFound("No such workspace.")
    if keep_billing_totals:
        closed = now_ms()
        for total in usage.totals(session, workspace_id):
            session.add(
                BillingTotalRow(
                    workspace_id=workspace_id,
                    product=total.product,
                    input_unit=total.input_unit,
                    output_unit=total.output_unit,
                    requests=total.requests,
                    input_units=total.input_units,
                    output_units=total.output_units,
                    duration_ms=total.duration_ms,
                    closed_at_ms=closed,
                )
            )
    # Children first: the same order works with or without the database's cascades.
    tables = (
        VoiceSampleRow,
        VoiceRow,
        ConversationRow,
        HistoryRow,
        AgentRow,
        SignedUrlRow,
        ApiKeyRow,
        AuditLogRow,
        UsageRow,
    )
    for table in tables:
        session.execute(delete(table).where(table.workspace_id == workspace_id))
    session.execute(delete(WorkspaceRow).where(WorkspaceRow.id == workspace_id))
    session.flush()
    keystore: KeyStore = session.info["keystore"]
    keystore.destroy_workspace(workspace_id)
