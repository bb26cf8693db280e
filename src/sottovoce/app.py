"""``create_app(settings)``: the whole server, built from its settings and nothing else."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI

from sottovoce import __version__
from sottovoce.api import chat, health, history, usage, workspace
from sottovoce.api.deps import Services
from sottovoce.api.errors import install_error_handlers
from sottovoce.api.middleware import RequestLifecycle
from sottovoce.config import Settings
from sottovoce.engines.registry import EngineRegistry, build_registry
from sottovoce.privacy.logging import log_event
from sottovoce.store.db import Store

log = logging.getLogger("sottovoce.app")


def create_app(settings: Settings, engines: EngineRegistry | None = None) -> FastAPI:
    store = Store(settings.resolved_database_url)
    services = Services(settings=settings, store=store, engines=engines or build_registry(settings))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await anyio.to_thread.run_sync(store.migrate)
        if settings.engines.preload:
            await services.engines.load_all()
        log_event(log, "server.ready", version=__version__, count=len(services.engines.models()))
        try:
            yield
        finally:
            store.close()

    app = FastAPI(
        title="sottovoce",
        version=__version__,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.services = services
    install_error_handlers(app)
    app.add_middleware(RequestLifecycle, services=services)
    for router in (health.router, workspace.router, usage.router, history.router, chat.router):
        app.include_router(router)
    return app
