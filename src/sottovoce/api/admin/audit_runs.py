"""The canary audit, run from the console: ``POST /v1/workspace/audit`` starts it against this
very server, ``GET /v1/workspace/audit`` says how it went and hands back its report.

Only an admin key of a zero-retention workspace may start one (the audit itself works in
scratch workspaces it creates and deletes), and one runs at a time on the server: it sends
every probe twice and is heavy. It runs as ``sottovoce audit --url`` in a process of its own
with the server's settings, as an operator would run it, so its markers never pass through
this process's memory or logs except as requests. The report (statuses, places, no markers) is
kept in memory only, for the workspace that asked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from sottovoce.api.deps import context
from sottovoce.api.surface import Mounted
from sottovoce.errors import AdminRequired, Conflict, InvalidRequest, RetentionRefused
from sottovoce.privacy.eligibility import Product
from sottovoce.services.context import RequestContext
from sottovoce.store.ids import now_ms

router = APIRouter(prefix="/v1/workspace/audit", tags=["workspace"])
AuditContext = Annotated[RequestContext, Depends(context(Product.WORKSPACE))]

AUDIT_TIMEOUT_S = 1200


@dataclass
class AuditRun:
    workspace_id: str
    only: tuple[str, ...]
    started_at_ms: int = field(default_factory=now_ms)
    finished_at_ms: int | None = None
    state: str = "running"
    """``running``, ``done`` (the report says pass or fail) or ``failed`` (no report)."""
    report: dict[str, Any] | None = None


@dataclass
class AuditRuns:
    """The latest run of each workspace; at most one running on the server."""

    runs: dict[str, AuditRun] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, run: AuditRun, command: list[str]) -> None:
        with self.lock:
            if any(r.state == "running" for r in self.runs.values()):
                raise Conflict("An audit is already running on this server.")
            self.runs[run.workspace_id] = run
        threading.Thread(target=self._run, args=(run, command), daemon=True).start()

    def _run(self, run: AuditRun, command: list[str]) -> None:
        try:
            done = subprocess.run(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                timeout=AUDIT_TIMEOUT_S,
                env=dict(os.environ),
                check=False,
            )
            report = json.loads(done.stdout) if done.stdout.strip() else None
            run.report = report if isinstance(report, dict) else None
        except (subprocess.TimeoutExpired, OSError, ValueError):
            run.report = None
        run.state = "done" if run.report is not None else "failed"
        run.finished_at_ms = now_ms()


class AuditAsk(BaseModel):
    model_config = ConfigDict(extra="forbid")

    only: list[Annotated[str, Field(max_length=80)]] = Field(default_factory=list, max_length=50)
    """Run only the probes whose names start with these (default: every probe)."""


class AuditRunOut(BaseModel):
    state: str
    """``none`` (no run since the server started), ``running``, ``done`` or ``failed``."""
    started_at_unix: int | None
    finished_at_unix: int | None
    only: list[str]
    report: dict[str, Any] | None

    @classmethod
    def of(cls, run: AuditRun) -> AuditRunOut:
        return cls(
            state=run.state,
            started_at_unix=run.started_at_ms // 1000,
            finished_at_unix=run.finished_at_ms // 1000 if run.finished_at_ms else None,
            only=list(run.only),
            report=run.report,
        )


def document_probe_names(document: dict[str, Any], mounted: Mounted) -> None:
    """``only`` takes probe names or their beginnings: the document offers the names."""
    only = document["components"]["schemas"]["AuditAsk"]["properties"]["only"]
    only["items"]["enum"] = sorted({p.name for p in mounted.probes()})


def runs_of(request: Request) -> AuditRuns:
    runs: AuditRuns = request.app.state.audit_runs
    return runs


def _probe_names(request: Request) -> set[str]:
    return {p.name for p in request.app.state.surfaces.probes()}


@router.post("")
async def start_audit(ask: AuditAsk, request: Request, ctx: AuditContext) -> AuditRunOut:
    if not ctx.key.is_admin:
        raise AdminRequired()
    if not ctx.workspace.zdr_enabled:
        raise RetentionRefused("The audit is run from a workspace with zero data retention.")
    names = _probe_names(request)
    if any(not any(n.startswith(prefix) for n in names) for prefix in ask.only):
        raise InvalidRequest("No probe has such a name.", fields=["only"])
    server = ctx.settings.server
    host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(server.host, server.host)
    url = f"http://{f'[{host}]' if ':' in host else host}:{server.port}"
    command = [sys.executable, "-m", "sottovoce", "audit", "--url", url, "--json", "-"]
    for prefix in ask.only:
        command += ["--only", prefix]
    run = AuditRun(ctx.workspace.id, tuple(ask.only))
    runs_of(request).start(run, command)
    return AuditRunOut.of(run)


@router.get("")
async def get_audit(request: Request, ctx: AuditContext) -> AuditRunOut:
    if not ctx.key.is_admin:
        raise AdminRequired()
    run = runs_of(request).runs.get(ctx.workspace.id)
    if run is None:
        return AuditRunOut(
            state="none", started_at_unix=None, finished_at_unix=None, only=[], report=None
        )
    return AuditRunOut.of(run)
