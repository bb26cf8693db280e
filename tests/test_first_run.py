"""The first start: a workspace and an admin key in a private file, and only its path logged."""

from __future__ import annotations

import json
import stat
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from pydantic import SecretStr

from sottovoce.config import Settings
from sottovoce.first_run import KEY_FILE_NAME, FirstRun, console_url, ensure_first_workspace
from sottovoce.store import workspaces
from sottovoce.store.db import Store
from tests.harness import RunningServer
from tests.postgres import PostgresCluster


def log_events(server: RunningServer, event: str) -> list[dict[str, object]]:
    lines = (json.loads(line) for line in server.logs().splitlines() if line.startswith("{"))
    return [line for line in lines if line.get("event") == event]


def test_an_empty_database_gets_a_workspace_and_an_admin_key_in_a_private_file(
    tmp_path: Path,
) -> None:
    server = RunningServer(tmp_path)
    try:
        key_file = server.data_dir / KEY_FILE_NAME
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        key = key_file.read_text().strip()
        got = httpx.get(f"{server.url}/v1/workspace", headers={"xi-api-key": key})
        assert got.status_code == 200
        ws = got.json()
        assert ws["is_admin_key"] is True
        assert (ws["plan"], ws["zdr_enabled"]) == ("enterprise", True)

        # The log names the file and the console, never the key.
        (written,) = log_events(server, "first_run.admin_key_written")
        assert written["key_file"] == str(key_file.resolve())
        assert written["console_url"] == f"{server.url}/"
        assert written["workspace_id"] == ws["workspace_id"]
        assert key not in server.logs()
        assert key[3:] not in server.logs()
        (ready,) = log_events(server, "server.ready")
        assert ready["console_url"] == f"{server.url}/"
    finally:
        server.stop()

    # A second start finds the workspace: nothing new, the file untouched.
    key_file.write_text("kept\n")
    again = RunningServer(tmp_path)
    try:
        assert log_events(again, "first_run.admin_key_written") == []
        assert key_file.read_text() == "kept\n"
        with again.store.session() as session:
            assert len(workspaces.list_all(session)) == 1
    finally:
        again.stop()


def test_the_console_url_is_one_a_browser_can_open() -> None:
    assert console_url("127.0.0.1", 8000) == "http://127.0.0.1:8000/"
    assert console_url("0.0.0.0", 80) == "http://127.0.0.1:80/"
    assert console_url("::", 8000) == "http://[::1]:8000/"


def test_replicas_looking_at_once_at_an_empty_database_make_one_workspace(
    postgres: PostgresCluster, tmp_path: Path
) -> None:
    url = postgres.create_database()
    settings = [
        Settings(
            data_dir=tmp_path / f"replica-{i}",
            database_url=url,
            keystore_url=postgres.create_database() if i == 0 else None,
            master_key=SecretStr("first-run-replicas-share-this-master-key"),
        )
        for i in range(4)
    ]
    settings[1:] = [
        s.model_copy(update={"keystore_url": settings[0].keystore_url}) for s in settings[1:]
    ]
    stores = [Store.from_settings(s) for s in settings]
    stores[0].migrate()
    together = threading.Barrier(len(stores))

    def start(i: int) -> FirstRun | None:
        together.wait()
        return ensure_first_workspace(stores[i], settings[i])

    try:
        with ThreadPoolExecutor(len(stores)) as pool:
            made = [m for m in pool.map(start, range(len(stores))) if m is not None]
        with stores[0].session() as session:
            assert len(workspaces.list_all(session)) == 1
        assert len(made) == 1
    finally:
        for store in stores:
            store.close()
