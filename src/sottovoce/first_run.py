"""The first start of a server: a workspace and an admin key, so that the console can be used.

On an empty database ``sottovoce serve`` creates one workspace (enterprise plan, zero data
retention on: nothing is kept until its admin decides otherwise) and an admin key, and writes
the key to ``DATA_DIR/first-run-admin-key`` with mode 0600. Only the file's path is logged,
never the key: logs are read by more people than the operator. It runs in the app's start-up,
after the migrations; replicas started together on an empty PostgreSQL database take turns, so
only one of them creates the workspace.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from sottovoce.config import Settings
from sottovoce.privacy.logging import log_event
from sottovoce.privacy.policy import Plan
from sottovoce.store import keys, workspaces
from sottovoce.store.db import Store
from sottovoce.store.locks import wait_for_turn

KEY_FILE_NAME = "first-run-admin-key"
FIRST_WORKSPACE_NAME = "default"


@dataclass(frozen=True)
class FirstRun:
    workspace_id: str
    key_file: Path


def console_url(host: str, port: int) -> str:
    """Where a browser finds the console (an IPv6 address in brackets, any-address as local)."""
    shown = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read, created with that mode (never readable between)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # an older file of that name keeps its mode otherwise
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def ensure_first_workspace(store: Store, settings: Settings) -> FirstRun | None:
    """On an empty (migrated) database, create the first workspace and admin key; else do
    nothing. On PostgreSQL the look and the creation hold a lock that other replicas wait for."""
    with store.session() as session:
        if not store.is_sqlite:
            wait_for_turn(session.connection(), "sottovoce-first-run")
        if workspaces.list_all(session):
            return None
        ws = workspaces.create(session, FIRST_WORKSPACE_NAME, Plan.ENTERPRISE, True)
        created = keys.create(session, ws.id, is_admin=True)
        key_file = settings.data_dir / KEY_FILE_NAME
        write_private(key_file, created.secret + "\n")
    return FirstRun(ws.id, key_file.resolve())


def first_run(store: Store, settings: Settings) -> FirstRun | None:
    """``ensure_first_workspace``, and say where the key and the console are."""
    first = ensure_first_workspace(store, settings)
    if first is not None:
        # The key's file, never the key: logs are read by more people than the operator.
        log_event(
            logging.getLogger("sottovoce.first_run"),
            "first_run.admin_key_written",
            workspace_id=first.workspace_id,
            key_file=str(first.key_file),
            console_url=console_url(settings.server.host, settings.server.port),
        )
    return first
