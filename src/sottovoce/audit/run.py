"""``sottovoce audit``: proof, on the operator's own deployment, that ZDR requests leave nothing.

The audit creates a scratch ZDR workspace, sends unique canaries through every content endpoint
(the probes each surface declares: the success path and each failure path), then searches every
place the server persists (:mod:`sottovoce.audit.search`) for them. It then runs the same
probes once more with retention on, as a negative control: that run's markers must show up in
history (decrypted with the server's keys), and nowhere else, or the search is not proving
anything. Scratch workspaces are deleted at the end, which crypto-shreds the control's content.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from sottovoce import __version__
from sottovoce.audit.probe import Case, Probe, ProbeClient
from sottovoce.audit.search import Finding, search_with_places
from sottovoce.audit.server import Target
from sottovoce.privacy.policy import Plan
from sottovoce.store import keys, usage, workspaces
from sottovoce.store.db import Store
from sottovoce.store.workspace_deletion import delete_workspace

HISTORY_PLACE = "(decrypted)"


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
    version: str = __version__
    """The sottovoce that ran the audit."""
    settings_fingerprint: str | None = None
    """A hash of the audited settings, secrets masked (:mod:`sottovoce.audit.signing`)."""
    probes: list[str] = field(default_factory=list)
    places: list[str] = field(default_factory=list)
    """Every place searched: files, captured streams, decrypted history items and voices."""
    started_at: str = ""
    finished_at: str = ""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


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
    """One run's probes, one after the other, on one client."""
    client = ProbeClient(target.url, api_key, run_name, upstream=target.upstream)
    try:
        for probe in probes:
            tick(f"{run_name}: {probe.name}")
            probe.run(client)
    finally:
        client.close()
    return client.cases


def _run_concurrently(
    target: Target,
    runs: list[tuple[str, str]],
    probes: list[Probe],
    tick: Callable[[str], None],
    jobs: int,
) -> list[list[Case]]:
    """Every (run, probe) pair on ``jobs`` workers, each probe on a client of its own; each
    run's cases come back in probe order, as :func:`run_probes` gives them. Probes that open
    sockets take turns: a server on a small machine admits one live transcription at a time
    (``limits.max_live_transcriptions``), and a probe it refused would carry no canary."""
    sockets = threading.Lock()

    def one(api_key: str, run_name: str, probe: Probe) -> list[Case]:
        if any(method == "WS" for method, _ in probe.routes):
            with sockets:
                return run_probes(target, api_key, run_name, [probe], tick)
        return run_probes(target, api_key, run_name, [probe], tick)

    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="audit-probe") as pool:
        futures = [
            [pool.submit(one, api_key, run_name, probe) for probe in probes]
            for run_name, api_key in runs
        ]
        return [[case for future in run for case in future.result()] for run in futures]


def _wait_for_usage(
    store: Store, workspace_ids: list[str], cases: list[Case], timeout: float = 30
) -> None:
    """Wait until every probed request's usage record is written: the server writes it after
    the response ends (or the client went away), and the search must come after that."""
    wanted = {c.request_id for c in cases if c.request_id}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with store.session() as s:
            seen = {r.request_id for w in workspace_ids for r in usage.query(s, w, limit=100_000)}
        if wanted <= seen:
            return
        time.sleep(0.1)


def audit(
    target: Target,
    probes: list[Probe],
    tick: Callable[[str], None] = lambda _name: None,
    jobs: int = 1,
) -> AuditReport:
    """Run the probes under ZDR and as the negative control, then search every place.

    ``jobs`` probes run at a time (each run's probes and both runs interleaved): the probes
    are independent, each with its own markers, and a server has cores to spare between one
    probe's requests."""
    started_at = _now()
    with (
        scratch_workspace(target.store, zdr=True) as (zdr_id, zdr_key),
        scratch_workspace(target.store, zdr=False) as (control_id, control_key),
    ):
        runs = [("zdr", zdr_key), ("control", control_key)]
        if jobs > 1:
            zdr_cases, control_cases = _run_concurrently(target, runs, probes, tick, jobs)
        else:
            zdr_cases = run_probes(target, zdr_key, "zdr", probes, tick)
            control_cases = run_probes(target, control_key, "control", probes, tick)
        _wait_for_usage(target.store, [zdr_id, control_id], zdr_cases + control_cases)
        target.store.checkpoint()
        cases = zdr_cases + control_cases
        findings, places = search_with_places(
            target.places,
            [c.marker for c in cases if not c.audio],
            [c.marker for c in cases if c.audio],
        )
    report = _report(zdr_cases, control_cases, findings, len(places))
    report.probes = [p.name for p in probes]
    report.places = places
    report.started_at = started_at
    for private in target.private_dirs:
        spilled = sorted(str(p.relative_to(private)) for p in private.rglob("*"))
        if spilled:
            report.problems.append(f"the server wrote files in {private}: {', '.join(spilled)}")
            report.ok = False
    report.finished_at = _now()
    return report


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


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
