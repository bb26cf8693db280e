"""Database backups: consistent online snapshots with a creation time and an expiry.

SQLite uses its online backup API; PostgreSQL ``pg_dump``/``pg_restore``. A backup holds the
database only, never the key store: content in it is sealed with item keys that deletion
destroys, so a deleted item (or workspace) is unreadable in every backup from the moment it is
deleted, however old the backup. Restoring reconciles the data with the key store: workspaces
deleted since are removed again and rows whose keys are gone are purged.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from sottovoce.errors import NotFound, SottovoceError
from sottovoce.store import history
from sottovoce.store.db import Store
from sottovoce.store.schema import WorkspaceRow
from sottovoce.store.workspace_deletion import delete_workspace

DAY_MS = 86_400_000


class BackupFailed(SottovoceError):
    code = "backup_failed"
    default_message = "The backup tool failed."


@dataclass(frozen=True)
class Backup:
    id: str
    file: str
    engine: str
    created_at_ms: int
    expires_at_ms: int
    size_bytes: int


def _manifest(backup_dir: Path, backup_id: str) -> Path:
    return backup_dir / f"{backup_id}.json"


def _pg_tool(name: str) -> str:
    found = shutil.which(name) or next(
        (str(p) for p in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True)),
        None,
    )
    if found is None:
        raise BackupFailed(f"{name} is not installed.")
    return found


def _pg_args(url: str) -> tuple[list[str], dict[str, str]]:
    """libpq connection arguments, with the password in the environment, not argv."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
    plain = parsed.set(drivername="postgresql", password=None)
    return [f"--dbname={plain.render_as_string(hide_password=False)}"], env


def _run(argv: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(argv, env=env, capture_output=True, check=False)
    if result.returncode != 0:
        # The tool's stderr may quote SQL or data: never surface it.
        raise BackupFailed(f"{Path(argv[0]).name} exited with status {result.returncode}.")


def create(store: Store, backup_dir: Path, retention_days: int, now_ms: int) -> Backup:
    backup_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    stamp = datetime.fromtimestamp(now_ms / 1000, UTC).strftime("%Y%m%dT%H%M%S%fZ")
    backup_id = f"backup-{stamp}"
    engine = "sqlite" if store.is_sqlite else "postgresql"
    path = backup_dir / f"{backup_id}.{'db' if store.is_sqlite else 'dump'}"
    partial = path.with_suffix(path.suffix + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(fd)
    if store.is_sqlite:
        raw = store.engine.raw_connection()
        try:
            target = sqlite3.connect(partial)
            with target:
                raw.driver_connection.backup(target)  # type: ignore[union-attr]
            target.execute("PRAGMA journal_mode=DELETE")
            target.close()
        finally:
            raw.close()
    else:
        args, env = _pg_args(store.url)
        _run([_pg_tool("pg_dump"), "--format=custom", f"--file={partial}", *args], env)
    partial.rename(path)
    backup = Backup(
        id=backup_id,
        file=path.name,
        engine=engine,
        created_at_ms=now_ms,
        expires_at_ms=now_ms + retention_days * DAY_MS,
        size_bytes=path.stat().st_size,
    )
    _manifest(backup_dir, backup_id).write_text(json.dumps(asdict(backup), indent=2))
    return backup


def list_all(backup_dir: Path) -> list[Backup]:
    if not backup_dir.is_dir():
        return []
    backups = [Backup(**json.loads(p.read_text())) for p in backup_dir.glob("backup-*.json")]
    return sorted(backups, key=lambda b: b.created_at_ms)


def get(backup_dir: Path, backup_id: str) -> Backup:
    for backup in list_all(backup_dir):
        if backup.id == backup_id:
            return backup
    raise NotFound("No such backup.")


def restore(store: Store, backup_dir: Path, backup: Backup) -> int:
    """Replace the database with the backup, then reconcile with the key store.

    Returns the number of history items purged because their keys were destroyed since.
    """
    path = backup_dir / backup.file
    if backup.engine == "sqlite":
        if not store.is_sqlite:
            raise BackupFailed("A SQLite backup cannot be restored into PostgreSQL.")
        source = sqlite3.connect(path)
        raw = store.engine.raw_connection()
        try:
            source.backup(raw.driver_connection)  # type: ignore[arg-type]
        finally:
            raw.close()
            source.close()
        store.engine.dispose()
    else:
        args, env = _pg_args(store.url)
        _run(
            [
                _pg_tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                *args,
                str(path),
            ],
            env,
        )
    store.migrate()
    with store.session() as session:
        for workspace_id in store.keystore.deleted_workspace_ids():
            if session.get(WorkspaceRow, workspace_id) is not None:
                delete_workspace(session, workspace_id, keep_billing_totals=False)
        purged = history.purge_keyless(session)
    store.checkpoint()
    return purged


def prune(backup_dir: Path, now_ms: int) -> list[Backup]:
    """Delete the backups whose expiry has passed."""
    removed = []
    for backup in list_all(backup_dir):
        if backup.expires_at_ms <= now_ms:
            (backup_dir / backup.file).unlink(missing_ok=True)
            _manifest(backup_dir, backup.id).unlink(missing_ok=True)
            removed.append(backup)
    return removed
