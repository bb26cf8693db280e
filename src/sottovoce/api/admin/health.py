"""Liveness and readiness: no key needed, no content, no usage record.

``/healthz`` says the process is alive (200 while it drains, too). ``/readyz`` says it should
be sent work: 200 once the database migrations ran and the engines are loaded (with
``engines.preload`` off they load on first use, and ``engines`` says ``on_demand``), 503 while
it starts or drains (:mod:`sottovoce.api.drain`).
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from sottovoce import __version__

router = APIRouter(tags=["health"])


@dataclass
class Readiness:
    """What start-up has done so far (set by the app's lifespan)."""

    migrated: bool = False
    engines: str = "loading"
    """``loading``, then ``loaded`` (preloaded) or ``on_demand`` (loaded on first use)."""


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok", "version": __version__}


@router.get(
    "/readyz",
    responses={503: {"description": "Starting or draining: send no work here."}},
)
async def readyz(request: Request) -> JSONResponse:
    ready: Readiness = request.app.state.readiness
    draining: bool = request.app.state.drain.draining
    body = {"version": __version__, "migrated": ready.migrated, "engines": ready.engines}
    if draining:
        return JSONResponse({"status": "draining", **body}, status_code=503)
    if not ready.migrated or ready.engines == "loading":
        return JSONResponse({"status": "starting", **body}, status_code=503)
    return JSONResponse({"status": "ready", **body})
