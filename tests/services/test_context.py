"""The request context decides retention once, and is the only road to history."""

from __future__ import annotations

import anyio
import pytest

from sottovoce.errors import RetentionViolation
from sottovoce.privacy.eligibility import HistorySource, Product
from sottovoce.privacy.policy import Reason, RequestFlags
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.services.context import AlreadyDecided
from sottovoce.store import history
from sottovoce.store.history import HistoryContent, HistoryFilter
from tests.services.conftest import ContextFactory

CONTENT = HistoryContent(source=HistorySource.TTS, model_id="local/piper", text=Sensitive("hi"))


def test_the_decision_is_taken_once_and_metered(make_context: ContextFactory) -> None:
    ctx = make_context(Product.TTS)
    decision = ctx.decide(RequestFlags(enable_logging=False))
    assert decision.zero_retention
    assert (ctx.usage.zero_retention, ctx.usage.retention_reason) == (True, Reason.REQUEST_ZDR)
    with pytest.raises(AlreadyDecided):
        ctx.decide(RequestFlags())


def test_retain_saves_under_this_request_and_workspace(make_context: ContextFactory) -> None:
    ctx = make_context(Product.TTS)
    ctx.decide(RequestFlags())
    assert ctx.retaining
    item_id = anyio.run(ctx.retain, CONTENT)
    assert ctx.usage.content_retained
    with ctx.services.store.session() as session:
        [item] = history.list_page(session, ctx.workspace.id, HistoryFilter()).items
    assert (item.id, item.request_id, item.text) == (item_id, "req_test", Sensitive("hi"))


@pytest.mark.parametrize("zdr", [True, False])
def test_retain_refuses_without_a_decision_that_allows_it(
    make_context: ContextFactory, zdr: bool
) -> None:
    ctx = make_context(Product.TTS, zdr=zdr)
    with pytest.raises(RetentionViolation):
        anyio.run(ctx.retain, CONTENT)  # nothing decided yet
    ctx.decide(RequestFlags() if zdr else RequestFlags(enable_logging=False))
    assert not ctx.retaining
    with pytest.raises(RetentionViolation):
        anyio.run(ctx.retain, CONTENT)
    assert not ctx.usage.content_retained
    with ctx.services.store.session() as session:
        assert history.list_page(session, ctx.workspace.id, HistoryFilter()).items == []
