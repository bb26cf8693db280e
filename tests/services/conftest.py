"""Products in-process: a real store (SQLite in a temporary directory) and real engines."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sottovoce.config import Settings
from sottovoce.engines.piper import PiperSynthesizer
from sottovoce.engines.registry import EngineRegistry
from sottovoce.privacy.eligibility import Product
from sottovoce.privacy.policy import Plan
from sottovoce.services.context import RequestContext, Services
from sottovoce.services.meter import UsageMeter
from sottovoce.store import keys, workspaces
from sottovoce.store.db import Store

ContextFactory = Callable[..., RequestContext]


@pytest.fixture(scope="module")
def piper() -> PiperSynthesizer:
    engine = PiperSynthesizer(threads=2)
    engine.load()
    return engine


@pytest.fixture
def services(tmp_path: Path, piper: PiperSynthesizer) -> Iterator[Services]:
    settings = Settings(data_dir=tmp_path)
    store = Store.from_settings(settings)
    store.migrate()
    yield Services(settings=settings, store=store, engines=EngineRegistry([piper]))
    store.close()


@pytest.fixture
def make_context(services: Services) -> ContextFactory:
    """A request context of a fresh workspace: ``make_context(Product.TTS, zdr=True)``."""

    def make(product: Product, *, zdr: bool = False) -> RequestContext:
        with services.store.session() as session:
            workspace = workspaces.create(session, "test", Plan.ENTERPRISE, zdr)
            key = keys.create(session, workspace.id, is_admin=True).key
        meter = UsageMeter(request_id="req_test", started_at_ms=0)
        return RequestContext(services, workspace=workspace, key=key, product=product, usage=meter)

    return make
