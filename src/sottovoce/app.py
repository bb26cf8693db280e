"""``create_app(settings)``: the whole server, built from its settings and nothing else.

The server is a list of surfaces (:data:`SURFACES`): sottovoce's own routes and one package per
vendor API. Adding a vendor is adding its package and one line here.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI

from sottovoce import __version__
from sottovoce.api import (
    admin,
    assemblyai,
    cartesia,
    console,
    deepgram,
    elevenlabs,
    inworld,
    openai,
)
from sottovoce.api.admin.audit_runs import AuditRuns
from sottovoce.api.admin.health import Readiness
from sottovoce.api.admin.metrics import Metrics
from sottovoce.api.drain import Drain
from sottovoce.api.errors import install_error_handlers
from sottovoce.api.idle import IdleRelease
from sottovoce.api.middleware import RequestLifecycle
from sottovoce.api.openapi import install_openapi
from sottovoce.api.surface import Mounted, Surface
from sottovoce.audit.probe import RouteKey
from sottovoce.config import Settings
from sottovoce.engines.registry import EngineRegistry, build_registry
from sottovoce.first_run import console_url, first_run
from sottovoce.privacy.logging import log_event
from sottovoce.services.admission import Admission
from sottovoce.services.context import Services
from sottovoce.services.voice_matching import MatchingJobs
from sottovoce.store.db import Store
from sottovoce.store.ids import now_ms
from sottovoce.store.sweeper import Clock, RetentionSweeper

log = logging.getLogger("sottovoce.app")

SURFACES: tuple[Surface, ...] = (
    elevenlabs.SURFACE,
    openai.SURFACE,
    cartesia.SURFACE,
    inworld.SURFACE,
    deepgram.SURFACE,
    assemblyai.SURFACE,
    admin.SURFACE,
    console.SURFACE,
)
"""The mounted surfaces. Where several declare the same key source, the first one owns it."""

FRAMEWORK_ROUTES: frozenset[RouteKey] = frozenset(
    {
        ("GET", "/openapi.json"),
        ("HEAD", "/openapi.json"),
        ("GET", "/docs"),
        ("HEAD", "/docs"),
        ("GET", "/docs/oauth2-redirect"),
        ("HEAD", "/docs/oauth2-redirect"),
    }
)
"""Routes FastAPI adds itself (the API description): they carry no request content."""


def create_app(
    settings: Settings,
    engines: EngineRegistry | None = None,
    clock: Clock = now_ms,
    surfaces: Sequence[Surface] = SURFACES,
) -> FastAPI:
    store = Store.from_settings(settings)
    sweeper = RetentionSweeper(store, settings, clock)
    services = Services(settings=settings, store=store, engines=engines or build_registry(settings))
    mounted = Mounted(tuple(surfaces))
    jobs = MatchingJobs(services)
    readiness = Readiness()
    drain = Drain(settings.server.drain_grace_s, settings.server.revoked_close_grace_s)
    idle = IdleRelease(drain, services.engines, settings.engines.release_idle_s)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await anyio.to_thread.run_sync(store.migrate)
        await anyio.to_thread.run_sync(first_run, store, settings)
        readiness.migrated = True
        if settings.engines.preload:
            await services.engines.load_all()
        readiness.engines = "loaded" if settings.engines.preload else "on_demand"
        log_event(
            log,
            "server.ready",
            version=__version__,
            count=len(services.engines.models()),
            console_url=console_url(settings.server.host, settings.server.port),
        )
        try:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(sweeper.run_forever)
                tasks.start_soon(jobs.run_forever)
                tasks.start_soon(services.watch_sessions)
                tasks.start_soon(drain.run_forever)
                tasks.start_soon(idle.run_forever)
                yield
                tasks.cancel_scope.cancel()
        finally:
            store.close()

    app = FastAPI(
        title="sottovoce",
        version=__version__,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
        # No redirect for a trailing slash: Starlette builds its absolute Location from the Host
        # header, an open redirect. A path with a slash too many is a 404 like any other.
        redirect_slashes=False,
    )
    app.state.services = services
    app.state.voice_jobs = jobs
    app.state.surfaces = mounted
    app.state.metrics = Metrics()
    app.state.readiness = readiness
    app.state.drain = drain
    app.state.admission = Admission.from_settings(settings.limits, settings.engines.usable_cores())
    app.state.audit_runs = AuditRuns()
    install_error_handlers(app)
    app.add_middleware(
        RequestLifecycle,
        services=services,
        surfaces=mounted,
        metrics=app.state.metrics,
        drain=drain,
    )
    mounted.mount(app)
    install_openapi(app, mounted)
    return app
