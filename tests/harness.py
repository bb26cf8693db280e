"""The canary harness: a real server in a subprocess, and a search of everything it persists.

``RunningServer`` starts ``python -m sottovoce serve`` on a free 127.0.0.1 port with its own data
directory and TMPDIR, captures stdout and stderr to files, and can search every place that
persists (database file with WAL and journal, captured logs, the data directory, TMPDIR) for a
marker in plain, URL-encoded, UTF-16 and base64 forms.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from pydantic import SecretStr

from sottovoce.audit.markers import new_marker, text_marker_forms
from sottovoce.audit.search import Places, search
from sottovoce.config import Settings
from sottovoce.privacy.policy import Plan
from sottovoce.store import keys, usage, workspaces
from sottovoce.store.db import Store
from tests.polling import wait_for
from tests.tmp_watch import CreationWatch


@dataclass(frozen=True)
class Creds:
    workspace_id: str
    api_key: str


def new_canary() -> str:
    return new_marker()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def marker_forms(marker: str) -> dict[str, bytes]:
    return text_marker_forms(marker)


class RunningServer:
    def __init__(
        self,
        root: Path,
        env: dict[str, str] | None = None,
        startup_s: float = 90,
        extra_places: list[Path] | None = None,
    ) -> None:
        self.root = root
        self.extra_places = extra_places or []
        self.data_dir = root / "data"
        self.tmp_dir = root / "tmp"
        self.log_dir = root / "logs"
        for d in (self.data_dir, self.tmp_dir, self.log_dir):
            d.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.database_url = (env or {}).get(
            "SOTTOVOCE_DATABASE_URL", f"sqlite:///{self.data_dir / 'sottovoce.db'}"
        )
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("SOTTOVOCE_")}
        full_env.update(
            {
                "SOTTOVOCE_DATA_DIR": str(self.data_dir),
                "SOTTOVOCE_ENGINES__PRELOAD": "false",
                "SOTTOVOCE_LOG_LEVEL": "DEBUG",
                "SOTTOVOCE_LOG_FILE": str(self.log_dir / "server.log"),
                # A test server stops at once: what a drain would wait for is over by then.
                "SOTTOVOCE_SERVER__DRAIN_GRACE_S": "2",
                "TMPDIR": str(self.tmp_dir),
                "HF_HUB_OFFLINE": "1",
                "PYTHONUNBUFFERED": "1",
            }
        )
        full_env.update(env or {})
        self.env = full_env
        # Every entry created in TMPDIR, even one deleted at once, from before the server starts.
        self.tmp_watch = CreationWatch(self.tmp_dir)
        self.stdout_path = self.log_dir / "stdout.log"
        self.stderr_path = self.log_dir / "stderr.log"
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "sottovoce", "serve", "--port", str(self.port)],
                stdout=out,
                stderr=err,
                env=full_env,
                start_new_session=True,
            )
        self._wait_ready(startup_s)
        self._store: Store | None = None

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.logs()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not start:\n{self.logs()[-3000:]}")

    @property
    def store(self) -> Store:
        """The server's own database and key store, opened in the test process."""
        if self._store is None:
            # Replicas keep their keys in a shared key store under a shared master key.
            master_key = self.env.get("SOTTOVOCE_MASTER_KEY")
            settings = Settings(
                data_dir=self.data_dir,
                database_url=self.database_url,
                keystore_url=self.env.get("SOTTOVOCE_KEYSTORE_URL"),
                master_key=SecretStr(master_key) if master_key else None,
            )
            self._store = Store.from_settings(settings)
        return self._store

    def create_workspace(
        self, name: str = "test", *, zdr: bool = False, plan: str = "enterprise"
    ) -> Creds:
        with self.store.session() as session:
            ws = workspaces.create(session, name, Plan(plan), zdr)
            created = keys.create(session, ws.id, is_admin=True)
        return Creds(ws.id, created.secret)

    def create_key(self, workspace_id: str, *, admin: bool = False) -> str:
        with self.store.session() as session:
            return keys.create(session, workspace_id, is_admin=admin).secret

    def usage_records(
        self, workspace_id: str, product: str | None = None
    ) -> list[usage.UsageRecord]:
        """The workspace's usage records (oldest first), read from the server's database."""
        with self.store.session() as session:
            return usage.query(session, workspace_id, product=product)

    def wait_for_usage(
        self, workspace_id: str, count: int, product: str | None = None
    ) -> list[usage.UsageRecord]:
        """Wait until the workspace has ``count`` usage records (of ``product``); return them.

        A record is written when its request or session has ended, after the response: once it
        is there, that request has done everything it will ever do (history included)."""

        def enough() -> list[usage.UsageRecord] | None:
            records = self.usage_records(workspace_id, product)
            return records if len(records) >= count else None

        return wait_for(enough, f"{count} {product or 'any'} usage record(s) of {workspace_id}")

    def logs(self) -> str:
        return "".join(p.read_text(errors="replace") for p in (self.stdout_path, self.stderr_path))

    def persisted_files(self) -> list[Path]:
        """Every file the server could have persisted content to."""
        places = [self.data_dir, self.tmp_dir, self.log_dir, *self.extra_places]
        return sorted(p for place in places for p in place.rglob("*") if p.is_file())

    def places(self) -> Places:
        directories = [self.data_dir, self.tmp_dir, self.log_dir, *self.extra_places]
        return Places(directories=directories, store=self.store)

    def tmp_created(self) -> list[str]:
        """Every entry the server created in its TMPDIR so far, deleted since or not."""
        return self.tmp_watch.read()

    def find_marker(self, marker: str) -> list[str]:
        """Every place (and form) where the marker is found. Empty means: no trace.

        A file created in TMPDIR at any time is a finding too (it may have held the marker
        before it was deleted, where no search can look)."""
        found = [f"{f.place} ({f.form})" for f in search(self.places(), [marker])]
        return found + self._tmp_findings()

    def find_audio_marker(self, marker: str) -> list[str]:
        """Where the raw samples of ``audio_marker_pcm(marker)`` are found."""
        found = [f"{f.place} ({f.form})" for f in search(self.places(), [], [marker])]
        return found + self._tmp_findings()

    def _tmp_findings(self) -> list[str]:
        return [f"TMPDIR: {name} was created (inotify)" for name in self.tmp_created()]

    def stop(self) -> None:
        self.tmp_watch.read()  # kept: what was created stays reported after the stop
        try:
            if self._store is not None:
                self._store.close()
                self._store = None
        finally:
            # The server runs in a session of its own: nothing else would ever stop it.
            if self.proc.poll() is None:
                os.killpg(self.proc.pid, signal.SIGTERM)
                try:
                    self.proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                    self.proc.wait()
