"""The server an audit probes: one it starts itself, or one already running.

A server the audit starts gets a private TMPDIR and a private HOME (both must still be empty
when the audit ends: nothing may spill into temp files or a home directory's caches), captured
stdout and stderr, one extra upstream chat provider and one speech provider on a closed port,
for the upstream-error paths, an upstream chat provider that breaks off mid-reply
(:mod:`sottovoce.audit.flaky_upstream`), and a second sottovoce as an upstream speech provider
(:data:`~sottovoce.audit.probe.AUDIT_UPSTREAM`, Deepgram's API, a zero-retention account there,
declared ``zdr-by-agreement``), for the upstream paths. That second server is searched like the
first (its data directory, its output, its own TMPDIR and HOME), and stopped with it. A running
server is searched where the operator says it keeps its files, plus the files of its home
directory's caches written while the audit ran; it has the upstream paths when the operator
configured a speech provider named ``audit-upstream`` (and searches that provider's places).
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
from sottovoce.audit.probe import AUDIT_DEAD_UPSTREAM, AUDIT_UPSTREAM, UPSTREAM_STT, UPSTREAM_TTS
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
    upstream: bool = False
    """The server has the audit's upstream speech providers (the upstream paths are probed)."""


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
    providers = [_with_key(p.model_dump(mode="json"), p.api_key) for p in settings.llm.upstream]
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


def _with_key(dumped: dict[str, object], key: object) -> dict[str, object]:
    secret = getattr(key, "get_secret_value", None)
    return {**dumped, "api_key": secret() if callable(secret) else None}


def _speech_providers(settings: Settings, upstream_url: str, upstream_key: str) -> str:
    """The configured speech providers, the audit's upstream sottovoce, and a dead one."""
    providers = [_with_key(p.model_dump(mode="json"), p.api_key) for p in settings.speech.providers]
    audit = {"kind": "deepgram", "stt_models": [UPSTREAM_STT], "tts_models": [UPSTREAM_TTS]}
    providers += [
        {
            **audit,
            "name": AUDIT_UPSTREAM,
            "base_url": upstream_url,
            "api_key": upstream_key,
            # The account there is a zero-retention one: the agreement is real.
            "retention_sync": "zdr-by-agreement",
            "retention_streaming": "zdr-by-agreement",
        },
        {
            **audit,
            "name": AUDIT_DEAD_UPSTREAM,
            "base_url": f"http://127.0.0.1:{_free_port()}",
            "timeout_s": 5,
        },
    ]
    return json.dumps(providers)


@dataclass
class _Process:
    url: str
    stop: Callable[[], None]
    stdout: bytearray
    stderr: bytearray
    private: tuple[Path, ...]


def _start(env: dict[str, str], startup_s: float, name: str, *, inherit: bool) -> _Process:
    """``sottovoce serve`` with a private TMPDIR and HOME and captured output; ``inherit``: with
    this process's ``SOTTOVOCE_`` settings (else only those of ``env``)."""
    tmp_dir = Path(tempfile.mkdtemp(prefix=f"sottovoce-{name}-tmp-"))
    home_dir = Path(tempfile.mkdtemp(prefix=f"sottovoce-{name}-home-"))
    port = _free_port()
    base = dict(os.environ) if inherit else _clean_env({})
    full = {
        **{k: v for k, v in base.items() if k != "XDG_CACHE_HOME"},
        "TMPDIR": str(tmp_dir),
        "HOME": str(home_dir),
        "PYTHONUNBUFFERED": "1",
        **env,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "sottovoce", "serve", "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=full,
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
        # Checked by the audit before this; whatever a faulty server left there goes too.
        shutil.rmtree(tmp_dir, ignore_errors=True)
        shutil.rmtree(home_dir, ignore_errors=True)

    try:
        _wait_healthy(url, startup_s, lambda: process.poll() is None)
    except RuntimeError:
        stop()
        raise
    return _Process(url, stop, stdout, stderr, (tmp_dir, home_dir))


def _clean_env(settings: dict[str, str]) -> dict[str, str]:
    """This process's environment without its ``SOTTOVOCE_`` settings, plus ``settings``."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith("SOTTOVOCE_")}
    return {**kept, **settings}


def _upstream_account(settings: dict[str, str]) -> str:
    """A zero-retention workspace on the upstream server (made by its own CLI, with its own
    settings), and its key."""
    made = subprocess.run(
        [sys.executable, "-m", "sottovoce", "workspace", "create", "audit-provider", "--zdr"],
        env=_clean_env(settings),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if made.returncode != 0:
        raise RuntimeError("the upstream server's account could not be created")
    key: str = json.loads(made.stdout)["api_key"]
    return key


UNLIMITED_LIVE = {
    "SOTTOVOCE_LIMITS__MAX_LIVE_TRANSCRIPTIONS": "64",
    "SOTTOVOCE_LIMITS__LIVE_BACKLOG_S": "0",
}
"""The audit's own servers transcribe live without a capacity limit: probes run ``--jobs`` at a
time and follow paths, they measure no capacity, and a probe refused as "too busy" would prove
nothing about where its canary went."""


def start_own_server(settings: Settings, extra: list[Path], startup_s: float = 180) -> Target:
    """Start ``sottovoce serve`` with the current settings (but :data:`UNLIMITED_LIVE`), a
    private TMPDIR and HOME, captured output, and a second sottovoce as its upstream speech
    provider."""
    upstream_dir = Path(tempfile.mkdtemp(prefix="sottovoce-audit-upstream-"))
    upstream_settings = {
        "SOTTOVOCE_DATA_DIR": str(upstream_dir),
        "SOTTOVOCE_ENGINES__PRELOAD": "false",
        "SOTTOVOCE_LOG_LEVEL": "DEBUG",
        **UNLIMITED_LIVE,
    }
    upstream = _start(upstream_settings, startup_s, "audit-upstream", inherit=False)
    flaky = FlakyUpstream()
    try:
        key = _upstream_account(upstream_settings)
        front = _start(
            {
                "SOTTOVOCE_LLM__UPSTREAM": _upstreams_with_a_dead_one(settings, flaky),
                "SOTTOVOCE_SPEECH__PROVIDERS": _speech_providers(settings, upstream.url, key),
                **UNLIMITED_LIVE,
            },
            startup_s,
            "audit",
            inherit=True,
        )
    except (RuntimeError, OSError):
        upstream.stop()
        flaky.close()
        shutil.rmtree(upstream_dir, ignore_errors=True)
        raise

    def stop() -> None:
        front.stop()
        upstream.stop()
        flaky.close()
        shutil.rmtree(upstream_dir, ignore_errors=True)

    store = Store.from_settings(settings)
    places = Places(
        directories=[
            *_places_for(settings, extra),
            *front.private,
            upstream_dir,
            *upstream.private,
        ],
        files=[p for p in (settings.log_file,) if p is not None],
        store=store,
    )
    # The captured streams are read live: the dict holds the growing buffers themselves.
    places.streams = {
        "server stdout": front.stdout,
        "server stderr": front.stderr,
        "upstream stdout": upstream.stdout,
        "upstream stderr": upstream.stderr,
    }
    private = (*front.private, *upstream.private)
    return Target(front.url, store, places, stop, private_dirs=private, upstream=True)


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
    upstream = any(p.provider_name == AUDIT_UPSTREAM for p in settings.speech.all_providers())
    return Target(url=url, store=store, places=places, upstream=upstream)
