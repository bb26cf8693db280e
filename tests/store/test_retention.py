"""Retained data done right: deletion reaches every backup, restore reconciles, expiry by clock.

Runs on SQLite and on a real PostgreSQL server (pg_dump / pg_restore).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from sottovoce.config import Settings
from sottovoce.errors import NotFound
from sottovoce.privacy.eligibility import HistorySource, Product
from sottovoce.privacy.policy import Plan, RequestFlags, WorkspaceRetention, decide
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.store import backups, history, keys, usage, workspaces
from sottovoce.store.backups import DAY_MS
from sottovoce.store.db import Store
from sottovoce.store.history import HistoryFilter, NewHistoryItem
from sottovoce.store.schema import BillingTotalRow, HistoryRow, WorkspaceRow
from sottovoce.store.sweeper import RetentionSweeper
from sottovoce.store.usage import UsageRecord
from sottovoce.store.workspace_deletion import delete_workspace
from tests.harness import new_canary

pytestmark = pytest.mark.both_databases
RETAIN = decide(WorkspaceRetention(zdr_enabled=False), RequestFlags(), Product.TTS)
T0 = 1_800_000_000_000


class FakeClock:
    def __init__(self, now: int = T0) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def settings(tmp_path: Path, database_url: Callable[[Path], str]) -> Settings:
    return Settings(data_dir=tmp_path, database_url=database_url(tmp_path))


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    s = Store.from_settings(settings)
    s.migrate()
    yield s
    s.close()


@pytest.fixture
def workspace_id(store: Store) -> str:
    with store.session() as s:
        return workspaces.create(s, "w", Plan.ENTERPRISE, False).id


def save(store: Store, workspace_id: str, text: str) -> str:
    item = NewHistoryItem(
        workspace_id=workspace_id,
        request_id="req_t",
        source=HistorySource.TTS,
        model_id="local/piper",
        text=Sensitive(text),
        audio=Sensitive(text.encode() * 20),
        content_type="audio/wav",
    )
    with store.session() as s:
        return history.save(s, RETAIN, item)


def texts(store: Store, workspace_id: str) -> list[str]:
    with store.session() as s:
        page = history.list_page(s, workspace_id, HistoryFilter(page_size=100))
    return [i.text.reveal() for i in page.items if i.text is not None]


def usage_record(workspace_id: str, characters: float) -> UsageRecord:
    return UsageRecord(
        request_id="req_u",
        workspace_id=workspace_id,
        key_id=None,
        product="tts",
        model_id=None,
        started_at_ms=T0,
        duration_ms=5,
        input_units=characters,
        input_unit="characters",
        output_units=0.0,
        output_unit=None,
        status_code=200,
        outcome="ok",
        error_code=None,
        content_retained=False,
        zero_retention=False,
        retention_reason=None,
    )


def backup_bytes(settings: Settings, backup: backups.Backup) -> bytes:
    return (settings.resolved_backup_dir / backup.file).read_bytes()


def test_a_backup_never_holds_plaintext_or_keys(
    store: Store, settings: Settings, workspace_id: str
) -> None:
    marker = new_canary()
    save(store, workspace_id, f"kept {marker}")
    made = backups.create(store, settings.resolved_backup_dir, 30, T0)
    data = backup_bytes(settings, made)
    assert marker.encode() not in data
    assert b"workspace_keys" not in data and b"item_keys" not in data
    assert (made.created_at_ms, made.expires_at_ms) == (T0, T0 + 30 * DAY_MS)
    assert [b.id for b in backups.list_all(settings.resolved_backup_dir)] == [made.id]


def test_restore_brings_back_live_history(
    store: Store, settings: Settings, workspace_id: str
) -> None:
    save(store, workspace_id, "before the backup")
    made = backups.create(store, settings.resolved_backup_dir, 30, T0)
    save(store, workspace_id, "after the backup")
    purged = backups.restore(store, settings.resolved_backup_dir, made)
    assert purged == 0
    assert texts(store, workspace_id) == ["before the backup"]


def test_an_item_deleted_after_a_backup_is_unreadable_in_it(
    store: Store, settings: Settings, workspace_id: str
) -> None:
    kept = save(store, workspace_id, "kept")
    doomed = save(store, workspace_id, f"doomed {new_canary()}")
    made = backups.create(store, settings.resolved_backup_dir, 30, T0)
    with store.session() as s:
        history.delete(s, workspace_id, doomed)
    # The backup still holds the row's ciphertext, but its key is gone for good.
    assert store.keystore.item_keys(workspace_id, [doomed]) == {}
    purged = backups.restore(store, settings.resolved_backup_dir, made)
    assert purged == 1
    with pytest.raises(NotFound), store.session() as s:
        history.get(s, workspace_id, doomed)
    with store.session() as s:
        assert s.get(HistoryRow, doomed) is None
        assert history.get(s, workspace_id, kept).text is not None


def test_a_deleted_workspace_is_unreadable_in_every_backup(
    store: Store, settings: Settings, workspace_id: str
) -> None:
    save(store, workspace_id, "workspace content")
    with store.session() as s:
        api_key = keys.create(s, workspace_id, is_admin=True).secret
        usage.record(s, usage_record(workspace_id, 11.0))
    made = backups.create(store, settings.resolved_backup_dir, 30, T0)
    with store.session() as s:
        delete_workspace(s, workspace_id, keep_billing_totals=True)
    backups.restore(store, settings.resolved_backup_dir, made)
    with store.session() as s:
        assert s.get(WorkspaceRow, workspace_id) is None  # not brought back to life
        assert keys.authenticate(s, api_key) is None
        assert s.scalars(select(HistoryRow)).all() == []
        assert usage.query(s, workspace_id) == []
    assert store.keystore.item_keys(workspace_id, ["anything"]) == {}
    assert workspace_id in store.keystore.deleted_workspace_ids()


def test_workspace_deletion_keeps_only_billing_totals(store: Store, workspace_id: str) -> None:
    with store.session() as s:
        for units in (3.0, 4.0):
            usage.record(s, usage_record(workspace_id, units))
        delete_workspace(s, workspace_id, keep_billing_totals=True)
    with store.session() as s:
        [total] = s.scalars(select(BillingTotalRow)).all()
        assert (total.workspace_id, total.product, total.requests, total.input_units) == (
            workspace_id,
            "tts",
            2,
            7.0,
        )
        with pytest.raises(NotFound):
            workspaces.get(s, workspace_id)


def test_backups_expire_by_the_clock(store: Store, settings: Settings) -> None:
    clock = FakeClock()
    old = backups.create(store, settings.resolved_backup_dir, 30, clock())
    clock.now += 10 * DAY_MS
    young = backups.create(store, settings.resolved_backup_dir, 30, clock())
    sweeper = RetentionSweeper(store, settings, clock)
    clock.now = T0 + 30 * DAY_MS - 1
    assert sweeper.run_once().backups_pruned == 0
    clock.now = T0 + 30 * DAY_MS
    assert sweeper.run_once().backups_pruned == 1
    assert [b.id for b in backups.list_all(settings.resolved_backup_dir)] == [young.id]
    assert not (settings.resolved_backup_dir / old.file).exists()


def test_history_expires_by_workspace_retention_days(
    store: Store, settings: Settings, workspace_id: str
) -> None:
    with store.session() as s:
        workspaces.update(s, workspace_id, {"history_retention_days": 7}, actor="key_t")
        other = workspaces.create(s, "forever", Plan.FREE, False).id
    save(store, workspace_id, "expires")
    save(store, other, "stays")
    with store.session() as s:
        for row in s.scalars(select(HistoryRow)):
            row.created_at_ms = T0
    clock = FakeClock(T0 + 7 * DAY_MS - 1)
    sweeper = RetentionSweeper(store, settings, clock)
    assert sweeper.run_once().history_expired == 0
    clock.now = T0 + 7 * DAY_MS + 1
    assert sweeper.run_once().history_expired == 1
    assert texts(store, workspace_id) == []
    assert texts(store, other) == ["stays"]
