"""The key store: wrapped workspace and item keys, kept apart from the data and its backups.

Content in the database is sealed with a per-item key; item keys are wrapped by a per-workspace
key, and workspace keys by the master key. Only the key store holds wrapped keys, in its own
database that database backups never contain: a SQLite file (by default
``DATA_DIR/keystore/keys.db``), or a PostgreSQL database of its own that replicas share.
Destroying a key (deleting an item or a workspace) makes every copy of the content it sealed,
in the live database and in every backup, old or new, unreadable: crypto-shredding.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import (
    BigInteger,
    Column,
    LargeBinary,
    MetaData,
    String,
    Table,
    create_engine,
    delete,
    event,
    insert,
    select,
    text,
)

from sottovoce.errors import WorkspaceGone
from sottovoce.store.encryption import new_key, open_sealed, seal
from sottovoce.store.ids import now_ms
from sottovoce.store.locks import wait_for_turn

_metadata = MetaData()
workspace_keys = Table(
    "workspace_keys",
    _metadata,
    Column("workspace_id", String(40), primary_key=True),
    Column("wrapped", LargeBinary, nullable=False),
    Column("created_at_ms", BigInteger, nullable=False),
)
item_keys = Table(
    "item_keys",
    _metadata,
    Column("item_id", String(40), primary_key=True),
    Column("workspace_id", String(40), nullable=False, index=True),
    Column("wrapped", LargeBinary, nullable=False),
)


deleted_workspaces = Table(
    "deleted_workspaces",
    _metadata,
    Column("workspace_id", String(40), primary_key=True),
    Column("deleted_at_ms", BigInteger, nullable=False),
)
"""Tombstones: a restored backup must not bring a deleted workspace back to life."""


def _pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


class KeyStore:
    def __init__(self, url: str, master_key: bytes) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.path: Path | None = Path(url.split("///", 1)[-1]) if self.is_sqlite else None
        """The SQLite file (None on PostgreSQL)."""
        self._master = master_key
        if self.is_sqlite:
            assert self.path is not None
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._engine = create_engine(url, connect_args={"check_same_thread": False})
            event.listen(self._engine, "connect", _pragmas)
        else:
            self._engine = create_engine(url, pool_pre_ping=True)
        with self._engine.begin() as connection:
            if not self.is_sqlite:
                wait_for_turn(connection, "sottovoce-keystore-schema")
            _metadata.create_all(connection)
        self._workspace_cache: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def _workspace_key(self, workspace_id: str, create: bool) -> bytes | None:
        with self._lock:
            cached = self._workspace_cache.get(workspace_id)
            if cached is not None:
                return cached
            aad = f"workspace:{workspace_id}".encode()
            with self._engine.begin() as c:
                wrapped = c.scalar(
                    select(workspace_keys.c.wrapped).where(
                        workspace_keys.c.workspace_id == workspace_id
                    )
                )
                if wrapped is None:
                    if not create:
                        return None
                    key = new_key()
                    c.execute(
                        insert(workspace_keys).values(
                            workspace_id=workspace_id,
                            wrapped=seal(self._master, key, aad),
                            created_at_ms=now_ms(),
                        )
                    )
                else:
                    key = open_sealed(self._master, wrapped, aad)
            self._workspace_cache[workspace_id] = key
            return key

    def new_item_key(self, workspace_id: str, item_id: str) -> bytes:
        """Create, store (wrapped) and return the key for a new item."""
        workspace_key = self._workspace_key(workspace_id, create=True)
        assert workspace_key is not None
        key = new_key()
        with self._engine.begin() as c:
            # The workspace key may be cached here after another process or replica destroyed
            # it: nothing new is ever sealed for a deleted workspace.
            if c.scalar(
                select(deleted_workspaces.c.workspace_id).where(
                    deleted_workspaces.c.workspace_id == workspace_id
                )
            ):
                with self._lock:
                    self._workspace_cache.pop(workspace_id, None)
                raise WorkspaceGone()
            c.execute(
                insert(item_keys).values(
                    item_id=item_id,
                    workspace_id=workspace_id,
                    wrapped=seal(workspace_key, key, f"item:{item_id}".encode()),
                )
            )
        return key

    def item_keys(self, workspace_id: str, item_ids: Iterable[str]) -> dict[str, bytes]:
        """The keys of those items that still have one (a destroyed key is simply absent)."""
        wanted = list(item_ids)
        workspace_key = self._workspace_key(workspace_id, create=False)
        if workspace_key is None or not wanted:
            return {}
        found: dict[str, bytes] = {}
        with self._engine.connect() as c:
            for start in range(0, len(wanted), 500):
                rows = c.execute(
                    select(item_keys.c.item_id, item_keys.c.wrapped).where(
                        item_keys.c.workspace_id == workspace_id,
                        item_keys.c.item_id.in_(wanted[start : start + 500]),
                    )
                )
                for item_id, wrapped in rows:
                    aad = f"item:{item_id}".encode()
                    found[item_id] = open_sealed(workspace_key, wrapped, aad)
        return found

    def destroy_items(self, item_ids: Iterable[str]) -> None:
        ids = list(item_ids)
        with self._engine.begin() as c:
            for start in range(0, len(ids), 500):
                c.execute(
                    delete(item_keys).where(item_keys.c.item_id.in_(ids[start : start + 500]))
                )
        self.checkpoint()

    def destroy_workspace(self, workspace_id: str) -> None:
        with self._lock:
            self._workspace_cache.pop(workspace_id, None)
            with self._engine.begin() as c:
                c.execute(delete(item_keys).where(item_keys.c.workspace_id == workspace_id))
                c.execute(
                    delete(workspace_keys).where(workspace_keys.c.workspace_id == workspace_id)
                )
                c.execute(
                    delete(deleted_workspaces).where(
                        deleted_workspaces.c.workspace_id == workspace_id
                    )
                )
                c.execute(
                    insert(deleted_workspaces).values(
                        workspace_id=workspace_id, deleted_at_ms=now_ms()
                    )
                )
        self.checkpoint()

    def deleted_workspace_ids(self) -> list[str]:
        with self._engine.connect() as c:
            return list(c.scalars(select(deleted_workspaces.c.workspace_id)))

    def checkpoint(self) -> None:
        if self.is_sqlite:
            with self._engine.connect() as c:
                c.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))

    def close(self) -> None:
        self._engine.dispose()
