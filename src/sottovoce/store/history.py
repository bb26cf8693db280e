"""History: the only place request content is persisted, and only when the decision allows.

Products save through :func:`save`, which refuses a decision that does not allow retention.
Content columns (``text``, ``audio``, ``details``) are sealed with AES-GCM under a key of their
own item, held in the key store (see ``keystore.py``). A row whose key is gone is a deleted row:
it is never shown, and the sweeper removes it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from sqlalchemy import delete as sa_delete
from sqlalchemy import select
from sqlalchemy.orm import Session

from sottovoce.errors import NotFound, RetentionViolation
from sottovoce.privacy.eligibility import HistorySource
from sottovoce.privacy.policy import RetentionDecision
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.store.encryption import open_sealed, seal
from sottovoce.store.ids import new_id, now_ms
from sottovoce.store.keystore import KeyStore
from sottovoce.store.schema import HistoryRow


@dataclass(frozen=True)
class HistoryContent:
    """What a product keeps of one request: built by the product, handed to ``ctx.retain()``."""

    source: HistorySource
    model_id: str | None
    voice_id: str | None = None
    voice_name: str | None = None
    text: Sensitive[str] | None = None
    audio: Sensitive[bytes] | None = None
    content_type: str | None = None
    output_format: str | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)
    """Request settings (numbers and enum values, never content)."""
    details: Sensitive[dict[str, Any]] | None = None
    """Content that is not the main text: alignments, words, dialogue turns, messages."""


@dataclass(frozen=True, kw_only=True)
class NewHistoryItem(HistoryContent):
    """A history item about to be saved: the content, whose it is and which request made it."""

    workspace_id: str
    request_id: str

    @classmethod
    def of(cls, content: HistoryContent, *, workspace_id: str, request_id: str) -> NewHistoryItem:
        kept = {f.name: getattr(content, f.name) for f in fields(HistoryContent)}
        return cls(workspace_id=workspace_id, request_id=request_id, **kept)


@dataclass(frozen=True)
class HistoryItem:
    id: str
    request_id: str
    source: str
    model_id: str | None
    voice_id: str | None
    voice_name: str | None
    created_at_ms: int
    character_count: int
    content_type: str | None
    output_format: str | None
    settings: dict[str, Any]
    text: Sensitive[str] | None
    details: Sensitive[dict[str, Any]] | None
    has_audio: bool


@dataclass(frozen=True)
class HistoryFilter:
    page_size: int = 100
    start_after_id: str | None = None
    voice_id: str | None = None
    model_id: str | None = None
    source: str | None = None
    date_before_ms: int | None = None
    date_after_ms: int | None = None
    descending: bool = True
    search: Sensitive[str] | None = None


@dataclass(frozen=True)
class HistoryPage:
    items: list[HistoryItem]
    has_more: bool
    scanned_until_ms: int | None


def _keystore(session: Session) -> KeyStore:
    keystore: KeyStore = session.info["keystore"]
    return keystore


def _aad(item_id: str, field: str) -> bytes:
    return f"{item_id}:{field}".encode()


def save(session: Session, decision: RetentionDecision, item: NewHistoryItem) -> str:
    """Persist a history item. Refuses, loudly, when the decision does not allow retention."""
    if not decision.retain or decision.zero_retention:
        raise RetentionViolation()
    text = item.text.reveal() if item.text is not None else None
    item_id = new_id("hist")
    key = _keystore(session).new_item_key(item.workspace_id, item_id)

    def sealed(field: str, plain: bytes | None) -> bytes | None:
        return seal(key, plain, _aad(item_id, field)) if plain is not None else None

    details = item.details.reveal() if item.details is not None else None
    row = HistoryRow(
        id=item_id,
        workspace_id=item.workspace_id,
        request_id=item.request_id,
        source=item.source.value,
        model_id=item.model_id,
        voice_id=item.voice_id,
        voice_name=item.voice_name,
        created_at_ms=now_ms(),
        character_count=len(text) if text is not None else 0,
        content_type=item.content_type,
        output_format=item.output_format,
        settings_json=json.dumps(dict(item.settings)) if item.settings else None,
        text=sealed("text", text.encode("utf-8") if text is not None else None),
        audio=sealed("audio", item.audio.reveal() if item.audio is not None else None),
        details=sealed("details", json.dumps(details).encode() if details is not None else None),
    )
    session.add(row)
    session.flush()
    return row.id


def _to_item(row: HistoryRow, key: bytes) -> HistoryItem:
    def opened(field: str, data: bytes | None) -> bytes | None:
        return open_sealed(key, data, _aad(row.id, field)) if data is not None else None

    text = opened("text", row.text)
    details = opened("details", row.details)
    return HistoryItem(
        id=row.id,
        request_id=row.request_id,
        source=row.source,
        model_id=row.model_id,
        voice_id=row.voice_id,
        voice_name=row.voice_name,
        created_at_ms=row.created_at_ms,
        character_count=row.character_count,
        content_type=row.content_type,
        output_format=row.output_format,
        settings=json.loads(row.settings_json) if row.settings_json else {},
        text=Sensitive(text.decode("utf-8")) if text is not None else None,
        details=Sensitive(json.loads(details)) if details is not None else None,
        has_audio=row.audio is not None,
    )


def _row(session: Session, workspace_id: str, item_id: str) -> tuple[HistoryRow, bytes]:
    row = session.get(HistoryRow, item_id)
    # Another workspace's item, or one whose key was destroyed, is indistinguishable from a
    # missing one.
    key = _keystore(session).item_keys(workspace_id, [item_id]).get(item_id)
    if row is None or row.workspace_id != workspace_id or key is None:
        raise NotFound("No such history item.")
    return row, key


def get(session: Session, workspace_id: str, item_id: str) -> HistoryItem:
    return _to_item(*_row(session, workspace_id, item_id))


def get_audio(session: Session, workspace_id: str, item_id: str) -> tuple[Sensitive[bytes], str]:
    row, key = _row(session, workspace_id, item_id)
    if row.audio is None:
        raise NotFound("This history item has no audio.")
    audio = open_sealed(key, row.audio, _aad(row.id, "audio"))
    return Sensitive(audio), row.content_type or "application/octet-stream"


def delete(session: Session, workspace_id: str, item_id: str) -> None:
    """Delete the row and destroy its key: every copy of its content, backups included, is
    unreadable from this moment."""
    row, _key = _row(session, workspace_id, item_id)
    session.delete(row)
    session.flush()
    _keystore(session).destroy_items([item_id])


def delete_older_than(session: Session, workspace_id: str, cutoff_ms: int) -> int:
    """Delete a workspace's items created before ``cutoff_ms``; returns how many."""
    ids = list(
        session.scalars(
            select(HistoryRow.id).where(
                HistoryRow.workspace_id == workspace_id, HistoryRow.created_at_ms < cutoff_ms
            )
        )
    )
    return _delete_ids(session, ids)


def purge_keyless(session: Session) -> int:
    """Delete rows whose key is gone (a deletion whose row outlived it, a restored backup)."""
    keystore = _keystore(session)
    doomed: list[str] = []
    for workspace_id in session.scalars(select(HistoryRow.workspace_id).distinct()):
        ids = list(
            session.scalars(select(HistoryRow.id).where(HistoryRow.workspace_id == workspace_id))
        )
        keys = keystore.item_keys(workspace_id, ids)
        doomed += [i for i in ids if i not in keys]
    return _delete_ids(session, doomed)


def _delete_ids(session: Session, ids: list[str]) -> int:
    for start in range(0, len(ids), 500):
        session.execute(sa_delete(HistoryRow).where(HistoryRow.id.in_(ids[start : start + 500])))
    session.flush()
    _keystore(session).destroy_items(ids)
    return len(ids)


def list_page(session: Session, workspace_id: str, f: HistoryFilter) -> HistoryPage:
    order = (HistoryRow.created_at_ms, HistoryRow.id)
    query = select(HistoryRow).where(HistoryRow.workspace_id == workspace_id)
    if f.voice_id is not None:
        query = query.where(HistoryRow.voice_id == f.voice_id)
    if f.model_id is not None:
        query = query.where(HistoryRow.model_id == f.model_id)
    if f.source is not None:
        query = query.where(HistoryRow.source == f.source)
    if f.date_before_ms is not None:
        query = query.where(HistoryRow.created_at_ms < f.date_before_ms)
    if f.date_after_ms is not None:
        query = query.where(HistoryRow.created_at_ms > f.date_after_ms)
    if f.start_after_id is not None:
        anchor, _ = _row(session, workspace_id, f.start_after_id)
        at, anchor_id = anchor.created_at_ms, anchor.id
        if f.descending:
            query = query.where(
                (HistoryRow.created_at_ms < at)
                | ((HistoryRow.created_at_ms == at) & (HistoryRow.id < anchor_id))
            )
        else:
            query = query.where(
                (HistoryRow.created_at_ms > at)
                | ((HistoryRow.created_at_ms == at) & (HistoryRow.id > anchor_id))
            )
    query = query.order_by(*(c.desc() for c in order) if f.descending else order)
    needle = f.search.reveal().casefold() if f.search is not None else None
    keystore = _keystore(session)
    items: list[HistoryItem] = []
    scanned_until: int | None = None
    # Content is sealed at rest, so a text search decrypts and filters here, in memory.
    for batch in session.scalars(query.execution_options(yield_per=200)).partitions(200):
        keys = keystore.item_keys(workspace_id, [row.id for row in batch])
        for row in batch:
            key = keys.get(row.id)
            if key is None:  # its key was destroyed: deleted
                continue
            item = _to_item(row, key)
            scanned_until = row.created_at_ms
            text = item.text.reveal().casefold() if item.text is not None else None
            if needle is not None and (text is None or needle not in text):
                continue
            if len(items) == f.page_size:
                return HistoryPage(items, has_more=True, scanned_until_ms=scanned_until)
            items.append(item)
    return HistoryPage(items, has_more=False, scanned_until_ms=scanned_until)
