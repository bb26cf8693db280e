"""``create_app(settings)``: the whole server, built from its settings and nothing else."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI

from sottovoce import __version__
from sottovoce.api import (
    cartesia_stt,
    cartesia_tts,
    chat,
    elevenlabs_stt,
    elevenlabs_tts,
    health,
    history,
    metrics,
    models,
    openai_speech,
    openai_transcriptions,
    realtime_stt,
    usage,
    voices,
    workspace,
)
from sottovoce.api.deps import Services
from sottovoce.api.errors import install_error_handlers
from sottovoce.api.metrics import Metrics
from sottovoce.api.middleware import RequestLifecycle
from sottovoce.config import Settings
from sottovoce.engines.registry import EngineRegistry, build_registry
from sottovoce.privacy.logging import log_event
from sottovoce.store.db import Store
from sottovoce.store.ids import now_ms
from sottovoce.store.sweeper import Clock, RetentionSweeper

log = logging.getLogger("sottovoce.app")


def create_app(
    settings: Settings, engines: EngineRegistry | None = None, clock: Clock = now_ms
) -> FastAPI:
    store = Store.from_settings(settings)
    sweeper = RetentionSweeper(store, settings, clock)
    services = Services(settings=settings, store=store, engines=engines or build_registry(settings))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await anyio.to_thread.run_sync(store.migrate)
        if settings.engines.preload:
            await services.engines.load_all()
        log_event(log, "server.ready", version=__version__, count=len(services.engines.models()))
        try:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(sweeper.run_forever)
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
    )
    app.state.services = services
    app.state.metrics = Metrics()
    install_error_handlers(app)
    app.add_middleware(RequestLifecycle, services=services, metrics=app.state.metrics)
    for router in (health.router, metrics.router, workspace.router, usage.router, history.router):
        app.include_router(router)
    for router in (
        elevenlabs_tts.router,
        openai_speech.router,
        cartesia_tts.router,
        voices.elevenlabs_router,
        voices.cartesia_router,
        models.router,
        chat.router,
    ):
        app.include_router(router)
    stt_routers = (elevenlabs_stt, openai_transcriptions, cartesia_stt, realtime_stt)
    for module in stt_routers:
        app.include_router(module.router)
    return app
