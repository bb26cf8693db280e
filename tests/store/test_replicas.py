"""Replicas sharing one database and one key store: each reads and deletes what another wrote,
a key one destroys is gone for all, and the sweep runs once per interval across them.

Two ``Store`` objects on the same databases stand for two server processes (the API tests run
real servers that way too). On PostgreSQL the key store is a database of its own; on SQLite
both open the same files, as two processes on one machine would.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sottovoce.config import Settings
from sottovoce.errors import WorkspaceGone
from sottovoce.privacy.policy import Plan
from sottovoce.store import history, scheduled_runs, workspaces
from sottovoce.store.db import Store
from sottovoce.store.history import HistoryFilter
from sottovoce.store.sweeper import SWEEP, RetentionSweeper
from sottovoce.store.workspace_deletion import delete_workspace
from tests.store.test_retention import T0, FakeClock, save, texts

pytestmark = pytest.mark.both_databases
MASTER = "replicas-share-this-master-key-of-32+chars"
MINUTE_MS = 60_000


@pytest.fixture
def settings(tmp_path: Path, database_url: Callable[[Path], str], backend: str) -> Settings:
    shared = {"database_url": database_url(tmp_path), "master_key": MASTER}
    if backend == "postgresql":
        shared["keystore_url"] = database_url(tmp_path)  # a second, separate database
    return Settings(data_dir=tmp_path, **shared)  # type: ignore[arg-type]


@pytest.fixture
def replicas(settings: Settings) -> Iterator[tuple[Store, Store]]:
    one = Store.from_settings(settings)
    one.migrate()
    two = Store.from_settings(settings)
    two.migrate()  # a second replica starting finds the schema done
    yield one, two
    one.close()
    two.close()


@pytest.fixture
def workspace_id(replicas: tuple[Store, Store]) -> str:
    with replicas[0].session() as s:
        return workspaces.create(s, "shared", Plan.ENTERPRISE, False).id


def test_what_one_replica_keeps_another_reads_and_deletes(
    replicas: tuple[Store, Store], workspace_id: str
) -> None:
    one, two = replicas
    item_id = save(one, workspace_id, "written through one")
    assert texts(two, workspace_id) == ["written through one"]
    with two.session() as s:
        audio, _ = history.get_audio(s, workspace_id, item_id)
        assert audio.reveal() == b"written through one" * 20
        history.delete(s, workspace_id, item_id)
    assert texts(one, workspace_id) == []
    assert one.keystore.item_keys(workspace_id, [item_id]) == {}


def test_a_workspace_deleted_through_one_replica_is_gone_for_the_other(
    replicas: tuple[Store, Store], workspace_id: str
) -> None:
    one, two = replicas
    save(one, workspace_id, "before")  # replica one now holds the workspace key in memory
    with two.session() as s:
        delete_workspace(s, workspace_id, keep_billing_totals=False)
    with pytest.raises(WorkspaceGone):
        one.keystore.new_item_key(workspace_id, "hist_after")
    with one.session() as s:
        page = history.list_page(s, workspace_id, HistoryFilter(page_size=10))
    assert page.items == []


def test_a_periodic_run_is_claimed_once_per_interval(replicas: tuple[Store, Store]) -> None:
    one, two = replicas

    def claim(store: Store, now: int) -> bool:
        with store.session() as s:
            return scheduled_runs.claim(s, "task", now, MINUTE_MS)

    assert claim(one, T0)
    assert not claim(two, T0)
    assert not claim(one, T0 + MINUTE_MS - 1)
    assert claim(two, T0 + MINUTE_MS)
    assert not claim(one, T0 + MINUTE_MS)


def test_the_sweep_runs_on_one_replica_per_interval(
    replicas: tuple[Store, Store], settings: Settings
) -> None:
    clock = FakeClock()
    interval = int(settings.retention.sweep_interval_s * 1000)
    one, two = (RetentionSweeper(store, settings, clock) for store in replicas)
    assert one.run_if_due() is not None
    assert two.run_if_due() is None
    clock.now += interval // 2
    assert one.run_if_due() is None
    assert two.run_if_due() is None
    clock.now += interval // 2
    assert two.run_if_due() is not None
    assert one.run_if_due() is None


def test_while_one_replica_sweeps_no_other_can(replicas: tuple[Store, Store], backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite serialises writers itself: one machine, one file")
    one, two = replicas
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with one.exclusive(SWEEP) as mine:
            assert mine
            holding.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(10)
        with two.exclusive(SWEEP) as mine:
            assert not mine
    finally:
        release.set()
        holder.join()
    with two.exclusive(SWEEP) as mine:
        assert mine
