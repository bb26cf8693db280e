"""The server an audit probes: one it starts itself, or one already running.

A server the audit starts gets a private TMPDIR and a private HOME (both must still be empty
when the audit ends: nothing may spill into temp files or a home directory's caches), captured
stdout and stderr, one extra upstream chat provider on a closed port, for the upstream-error
path, and one that breaks off mid-reply (:mod:`sottovoce.audit.flaky_upstream`). A running
server is searched where the operator says it keeps its files, plus the files
of its home directory's caches written while the audit ran.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from sottovoce.audit.flaky_upstream import FlakyUpstream
from sottovoce.audit.probe import AUDIT_DEAD_UPSTREAM
from sottovoce.audit.search import Places
from sottovoce.config import Settings
from sottovoce.store.db import Store


@dataclass
class Target:
    """A running server and the places it persists to."""

    url: str
    store: Store
    places: Places
    stop: Callable[[], None] = lambda: None
    private_dirs: tuple[Path, ...] = ()
    """The server's own TMPDIR and HOME, when the audit started it: they must stay empty."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _capture(pipe: object, into: bytearray) -> None:
    for chunk in iter(lambda: pipe.read1(65536), b""):  # type: ignore[attr-defined]
        into += chunk


def _wait_healthy(url: str, timeout: float, alive: Callable[[], bool]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError("the server exited during start-up")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError("the server did not become healthy in time")


def _places_for(settings: Settings, extra: list[Path]) -> list[Path]:
    directories = [settings.data_dir, settings.resolved_backup_dir, *extra]
    return [d for d in directories if d.exists()]


def _upstreams_with_a_dead_one(settings: Settings, flaky: FlakyUpstream) -> str:
    """The configured upstream providers plus one on a closed port, for the upstream-error path,
    and one that breaks off mid-reply (served by the audit itself).

    They declare zero retention so that ZDR requests are routed to them (and fail there).
    """
    providers = [
        {
            **p.model_dump(mode="json", exclude={"api_key"}),
            **({"api_key": p.api_key.get_secret_value()} if p.api_key else {}),
        }
        for p in settings.llm.upstream
    ]
    providers.append(
        {
            "name": AUDIT_DEAD_UPSTREAM,
            "base_url": f"http://127.0.0.1:{_free_port()}/v1",
            "models": ["probe"],
            "retention_sync": "none",
            "retention_streaming": "none",
            "timeout_s": 5,
        }
    )
    providers.append(flaky.provider())
    return json.dumps(providers)


def start_own_server(settings: Settings, extra: list[Path], startup_s: float = 180) -> Target:
    """Start ``sottovoce serve`` with the current settings, a private TMPDIR and HOME, and
    captured output."""
    tmp_dir = Path(tempfile.mkdtemp(prefix="sottovoce-audit-tmp-"))
    home_dir = Path(tempfile.mkdtemp(prefix="sottovoce-audit-home-"))
    port = _free_port()
    flaky = FlakyUpstream()
    env = {
        **{k: v for k, v in os.environ.items() if k != "XDG_CACHE_HOME"},
        "TMPDIR": str(tmp_dir),
        "HOME": str(home_dir),
        "PYTHONUNBUFFERED": "1",
        "SOTTOVOCE_LLM__UPSTREAM": _upstreams_with_a_dead_one(settings, flaky),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "sottovoce", "serve", "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,
    )
    stdout, stderr = bytearray(), bytearray()
    readers = [
        threading.Thread(target=_capture, args=(process.stdout, stdout), daemon=True),
        threading.Thread(target=_capture, args=(process.stderr, stderr), daemon=True),
    ]
    for reader in readers:
        reader.start()
    url = f"http://127.0.0.1:{port}"

    def stop() -> None:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        for reader in readers:
            reader.join(timeout=5)
        flaky.close()
        # Checked by the audit before this; whatever a faulty server left there goes too.
        shutil.rmtree(tmp_dir, ignore_errors=True)
        shutil.rmtree(home_dir, ignore_errors=True)

    try:
        _wait_healthy(url, startup_s, lambda: process.poll() is None)
    except RuntimeError:
        stop()
        raise
    store = Store.from_settings(settings)
    places = Places(
        directories=[*_places_for(settings, extra), tmp_dir, home_dir],
        files=[p for p in (settings.log_file,) if p is not None],
        store=store,
    )
    # The captured streams are read live: the dict holds the growing buffers themselves.
    places.streams = {"server stdout": stdout, "server stderr": stderr}
    return Target(url, store, places, stop, private_dirs=(tmp_dir, home_dir))


def attach(
    url: str,
    settings: Settings,
    tmp_dir: Path,
    log_files: list[Path],
    extra: list[Path],
    home_dir: Path | None = None,
) -> Target:
    """Audit a server that is already running, given where it keeps its files."""
    _wait_healthy(url, 10, lambda: True)
    store = Store.from_settings(settings)
    files = [*log_files, *((settings.log_file,) if settings.log_file else ())]
    home = home_dir if home_dir is not None else Path.home()
    places = Places(
        directories=[*_places_for(settings, extra), tmp_dir],
        files=files,
        store=store,
        recent=[home / ".cache"],
        since=time.time(),
    )
    return Target(url=url, store=store, places=places)
