"""The database: migrations build the schema the models describe; SQLite deletes for real."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session

from sottovoce.config import Settings
from sottovoce.privacy.policy import Plan
from sottovoce.store import audit_log, workspaces
from sottovoce.store.db import AuditLogIsAppendOnly, Store
from sottovoce.store.schema import AuditLogRow, Base

pytestmark = pytest.mark.both_databases


@pytest.fixture
def store(tmp_path: Path, database_url: Callable[[Path], str]) -> Iterator[Store]:
    s = Store.from_settings(Settings(data_dir=tmp_path, database_url=database_url(tmp_path)))
    s.migrate()
    yield s
    s.close()


def test_migrations_match_the_models(store: Store) -> None:
    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_migrating_twice_is_harmless(store: Store) -> None:
    store.migrate()
    assert {"workspaces", "api_keys", "usage_records", "history_items", "audit_log"} <= set(
        inspect(store.engine).get_table_names()
    )


def test_sqlite_runs_with_wal_secure_delete_and_foreign_keys(store: Store) -> None:
    if not store.is_sqlite:
        pytest.skip("SQLite settings")
    with store.engine.connect() as c:
        assert c.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert c.execute(text("PRAGMA secure_delete")).scalar() == 1
        assert c.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_sqlite_keeps_sorts_and_temporary_tables_in_memory(store: Store) -> None:
    if not store.is_sqlite:
        pytest.skip("SQLite settings")
    with store.engine.connect() as c:
        assert c.execute(text("PRAGMA temp_store")).scalar() == 2  # MEMORY


def test_audit_log_is_append_only(store: Store) -> None:
    with store.session() as s:
        ws = workspaces.create(s, "w", Plan.ENTERPRISE, False)
        audit_log.append(s, ws.id, "key_x", "zdr_enabled", False, True)

    def change(s: Session) -> None:
        s.scalars(select(AuditLogRow)).one().new_value = "false"

    def remove(s: Session) -> None:
        s.delete(s.scalars(select(AuditLogRow)).one())

    for attempt in (change, remove):
        with pytest.raises(AuditLogIsAppendOnly), store.session() as s:
            attempt(s)
    with store.session() as s:
        assert [e.new_value for e in audit_log.list_for(s, ws.id, 10)] == [True]


def test_in_memory_sqlite_is_refused() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        Settings(database_url="sqlite:///:memory:")
