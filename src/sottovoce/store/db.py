"""The database: engine, sessions, migrations and the SQLite settings that make deletion real."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from sottovoce.config import Settings
from sottovoce.errors import SottovoceError
from sottovoce.store.encryption import derive_master_key, load_or_create_key_file
from sottovoce.store.keystore import KeyStore
from sottovoce.store.locks import advisory_key, wait_for_turn
from sottovoce.store.schema import AuditLogRow

MIGRATIONS = Path(__file__).parent / "migrations"


class AuditLogIsAppendOnly(SottovoceError):
    code = "audit_log_append_only"
    default_message = "The audit log can only be appended to."


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # Freed pages are overwritten with zeros, so deleted content leaves the file for real.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Sorts and temporary tables stay in memory: SQLite would otherwise spill them into TMPDIR
    # (etilqs_* files, deleted at once, so a directory listing would never show them).
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


def _refuse_audit_log_changes(session: Session, _ctx: Any, _instances: Any) -> None:
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, AuditLogRow):
            raise AuditLogIsAppendOnly()


class Store:
    """One database and its key store: a connection pool and a session factory.

    Sessions carry the key store in ``session.info["keystore"]``, so the history functions
    seal and open content without every caller passing keys around.
    """

    def __init__(self, url: str, keystore: KeyStore) -> None:
        self.url = url
        self.keystore = keystore
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            path = url.split("///", 1)[-1]
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.engine: Engine = create_engine(
            url,
            connect_args={"check_same_thread": False} if self.is_sqlite else {},
            pool_pre_ping=not self.is_sqlite,
        )
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(
            self.engine, expire_on_commit=False, info={"keystore": keystore}
        )
        event.listen(self._sessions, "before_flush", _refuse_audit_log_changes)

    @classmethod
    def from_settings(cls, settings: Settings) -> Store:
        keystore_dir = settings.resolved_keystore_dir
        if settings.master_key is not None:
            master = derive_master_key(settings.master_key.get_secret_value())
        else:
            master = load_or_create_key_file(keystore_dir / "master.key")
        keystore = KeyStore(settings.resolved_keystore_url, master)
        return cls(settings.resolved_database_url, keystore)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in a transaction: committed on success, rolled back on error."""
        with self._sessions() as session, session.begin():
            yield session

    def migrate(self) -> None:
        """Bring the schema to the newest migration."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as connection:
            if not self.is_sqlite:
                wait_for_turn(connection, "sottovoce-migrate")
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def checkpoint(self) -> None:
        """Fold the write-ahead logs into the database files and empty them (SQLite)."""
        if self.is_sqlite:
            with self.engine.connect() as connection:
                connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        self.keystore.checkpoint()

    @contextmanager
    def exclusive(self, name: str) -> Iterator[bool]:
        """Whether this process holds ``name`` for the block, against every other process on
        the same PostgreSQL database (a session advisory lock, never waited for). On SQLite,
        one writer at a time is the database's own rule: always True."""
        if self.is_sqlite:
            yield True
            return
        key = advisory_key(name)
        with self.engine.connect() as c:
            held = bool(c.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}))
            c.commit()
            try:
                yield held
            finally:
                if held:
                    c.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                    c.commit()

    def vacuum(self) -> None:
        """Reclaim the space of deleted rows (and on PostgreSQL, rewrite out dead tuples)."""
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("VACUUM"))

    def close(self) -> None:
        self.engine.dispose()
        self.keystore.close()
