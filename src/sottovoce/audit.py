"""``sottovoce audit``: proof, on the operator's own deployment, that ZDR requests leave nothing.

The audit creates a scratch ZDR workspace, sends unique canaries through every content endpoint
(each probe in ``audit_probes.py``: the success path and each failure path), then searches every
place the server persists (``audit_search.py``) for them. It then runs the same probes once more
with retention on, as a negative control: that run's markers must show up in history (decrypted
with the server's keys), and nowhere else, or the search is not proving anything. Scratch
workspaces are deleted at the end, which crypto-shreds the control's content.
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
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx

from sottovoce.audit_probes import AUDIT_DEAD_UPSTREAM, PROBES, Probe
from sottovoce.audit_search import Finding, Places, search
from sottovoce.config import Settings
from sottovoce.privacy.policy import Plan
from sottovoce.store import keys, workspaces
from sottovoce.store.db import Store
from sottovoce.store.workspace_deletion import delete_workspace

HISTORY_PLACE = "(decrypted)"


@dataclass
class Case:
    """One path of one probe, with the marker it carried."""

    probe: str
    path: str
    marker: str
    audio: bool
    retained_if_allowed: bool
    """With retention on, this path's content is meant to reach history."""
    status: int | None = None


@dataclass
class ProbeClient:
    """What a probe uses to reach the server: HTTP, WebSocket, the key, fresh markers."""

    base_url: str
    api_key: str
    run_name: str
    cases: list[Case] = field(default_factory=list)
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.base_url, timeout=120)

    @property
    def ws_url(self) -> str:
        return "ws" + self.base_url.removeprefix("http")

    @property
    def auth(self) -> dict[str, str]:
        return {"xi-api-key": self.api_key}

    def marker(self, probe: str, path: str, *, audio: bool = False, retained: bool = False) -> Case:
        marker = f"CANARY{uuid.uuid4().hex[:20]}"
        case = Case(probe, path, marker, audio, retained)
        self.cases.append(case)
        return case

    def close(self) -> None:
        self.http.close()


@dataclass
class CaseResult:
    run: str
    probe: str
    path: str
    status: int | None
    leaks: list[str]
    expected_in_history: bool
    found_in_history: bool


@dataclass
class AuditReport:
    ok: bool
    results: list[CaseResult]
    control_found: int
    places_searched: int
    problems: list[str]

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class Target:
    """A running server and the places it persists to."""

    url: str
    store: Store
    places: Places
    stop: Callable[[], None] = lambda: None
    private_tmp: Path | None = None
    """The server's own TMPDIR, when the audit started it: it must stay empty."""


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


def _places_for(settings: Settings, tmp_dir: Path, extra: list[Path]) -> list[Path]:
    directories = [settings.data_dir, settings.resolved_backup_dir, tmp_dir, *extra]
    return [d for d in directories if d.exists()]


def _upstreams_with_a_dead_one(settings: Settings) -> str:
    """The configured upstream providers plus one on a closed port, for the upstream-error path.

    It declares zero retention so that ZDR requests are routed to it (and fail there).
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
    return json.dumps(providers)


def start_own_server(settings: Settings, extra: list[Path], startup_s: float = 180) -> Target:
    """Start ``sottovoce serve`` with the current settings, a private TMPDIR and captured output."""
    tmp_dir = Path(tempfile.mkdtemp(prefix="sottovoce-audit-tmp-"))
    port = _free_port()
    env = {
        **os.environ,
        "TMPDIR": str(tmp_dir),
        "PYTHONUNBUFFERED": "1",
        "SOTTOVOCE_LLM__UPSTREAM": _upstreams_with_a_dead_one(settings),
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
        # Checked by the audit before this; whatever a faulty server left there goes too.
        shutil.rmtree(tmp_dir, ignore_errors=True)

    try:
        _wait_healthy(url, startup_s, lambda: process.poll() is None)
    except RuntimeError:
        stop()
        raise
    store = Store.from_settings(settings)
    places = Places(
        directories=_places_for(settings, tmp_dir, extra),
        files=[p for p in (settings.log_file,) if p is not None],
        store=store,
    )
    # The captured streams are read live: the dict holds the growing buffers themselves.
    places.streams = {"server stdout": stdout, "server stderr": stderr}
    return Target(url=url, store=store, places=places, stop=stop, private_tmp=tmp_dir)


def attach(
    url: str, settings: Settings, tmp_dir: Path, log_files: list[Path], extra: list[Path]
) -> Target:
    """Audit a server that is already running, given where it keeps its files."""
    _wait_healthy(url, 10, lambda: True)
    store = Store.from_settings(settings)
    files = [*log_files, *((settings.log_file,) if settings.log_file else ())]
    places = Places(directories=_places_for(settings, tmp_dir, extra), files=files, store=store)
    return Target(url=url, store=store, places=places)


@contextlib.contextmanager
def scratch_workspace(store: Store, zdr: bool) -> Iterator[tuple[str, str]]:
    with store.session() as s:
        ws = workspaces.create(s, f"audit-{'zdr' if zdr else 'control'}", Plan.ENTERPRISE, zdr)
        # Both keep input audio when allowed: under ZDR it must still be dropped, and in the
        # control it puts the STT canaries where the search must find them.
        workspaces.update(s, ws.id, {"keep_input_audio": True}, actor="audit")
        secret = keys.create(s, ws.id, is_admin=True).secret
    try:
        yield ws.id, secret
    finally:
        with store.session() as s:
            delete_workspace(s, ws.id, keep_billing_totals=False)
        store.checkpoint()


def run_probes(
    target: Target, api_key: str, run_name: str, probes: list[Probe], tick: Callable[[str], None]
) -> list[Case]:
    client = ProbeClient(target.url, api_key, run_name)
    try:
        for probe in probes:
            tick(f"{run_name}: {probe.name}")
            probe.run(client)
    finally:
        client.close()
    return client.cases


def audit(
    target: Target,
    probes: list[Probe] | None = None,
    tick: Callable[[str], None] = lambda _name: None,
) -> AuditReport:
    chosen = PROBES if probes is None else probes
    with (
        scratch_workspace(target.store, zdr=True) as (_, zdr_key),
        scratch_workspace(target.store, zdr=False) as (_, control_key),
    ):
        zdr_cases = run_probes(target, zdr_key, "zdr", chosen, tick)
        control_cases = run_probes(target, control_key, "control", chosen, tick)
        time.sleep(0.5)  # usage records are written just after each response
        target.store.checkpoint()
        cases = zdr_cases + control_cases
        findings = search(
            target.places,
            [c.marker for c in cases if not c.audio],
            [c.marker for c in cases if c.audio],
        )
        places_searched = sum(1 for _ in target.places.contents())
    report = _report(zdr_cases, control_cases, findings, places_searched)
    if target.private_tmp is not None:
        spilled = sorted(p.name for p in target.private_tmp.rglob("*"))
        if spilled:
            report.problems.append(f"request handling created temp files: {', '.join(spilled)}")
            report.ok = False
    return report


def _report(
    zdr_cases: list[Case], control_cases: list[Case], findings: list[Finding], places: int
) -> AuditReport:
    by_marker: dict[str, list[Finding]] = {}
    for finding in findings:
        by_marker.setdefault(finding.marker, []).append(finding)
    results: list[CaseResult] = []
    problems: list[str] = []
    control_found = 0
    for run, cases in (("zdr", zdr_cases), ("control", control_cases)):
        for case in cases:
            hits = by_marker.get(case.marker, [])
            in_history = any(HISTORY_PLACE in f.place for f in hits)
            # Under ZDR nothing may be found anywhere; with retention on, only in history.
            leaks = [
                f"{f.place} [{f.form}]"
                for f in hits
                if run == "zdr" or HISTORY_PLACE not in f.place
            ]
            expected = run == "control" and case.retained_if_allowed
            if leaks:
                problems.append(f"{run} {case.probe} {case.path}: found in {', '.join(leaks)}")
            if expected and not in_history:
                problems.append(f"control {case.probe} {case.path}: not found in history")
            control_found += int(run == "control" and in_history)
            results.append(
                CaseResult(run, case.probe, case.path, case.status, leaks, expected, in_history)
            )
    if control_found == 0:
        problems.append("the negative control found nothing: the search proves nothing")
    return AuditReport(not problems, results, control_found, places, problems)
