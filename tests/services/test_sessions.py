"""An open session's lease on its key and workspace, re-checked against the real store: what
changes end it, what does not, and what a revoked session may still keep (nothing)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import pytest

from sottovoce.errors import RetentionViolation, SessionRevoked
from sottovoce.privacy.eligibility import HistorySource, Product
from sottovoce.privacy.policy import RequestFlags
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.services.context import RequestContext
from sottovoce.store import keys, workspaces
from sottovoce.store.history import HistoryContent
from sottovoce.store.workspace_deletion import delete_workspace
from tests.services.conftest import ContextFactory

CONTENT = HistoryContent(source=HistorySource.STT, model_id="local/piper", text=Sensitive("hi"))


def check_held(ctx: RequestContext) -> int:
    """Hold the context's lease and check the open sessions once; how many were revoked."""
    services = ctx.services
    with services.sessions.holding(ctx.lease):
        return anyio.run(services.sessions.check, services.key_standing)


def change(ctx: RequestContext, fn: Callable[[Any], object]) -> None:
    with ctx.services.store.session() as session:
        fn(session)


def test_a_standing_key_and_workspace_keep_the_session(make_context: ContextFactory) -> None:
    ctx = make_context(Product.STT)
    # A rename is not a retention term: the session goes on.
    change(ctx, lambda s: workspaces.update(s, ctx.workspace.id, {"name": "new"}, actor="t"))
    assert check_held(ctx) == 0
    assert not ctx.lease.revoked


@pytest.mark.parametrize(
    ("what", "message"),
    [
        ("revoke", "The API key was revoked."),
        ("zdr", "The workspace's retention settings changed."),
        ("keep_audio", "The workspace's retention settings changed."),
        ("restrict", "The workspace was restricted."),
        ("delete", "The API key or its workspace no longer exists."),
    ],
)
def test_each_change_revokes_the_session(
    make_context: ContextFactory, what: str, message: str
) -> None:
    ctx = make_context(Product.STT)
    ws, key = ctx.workspace.id, ctx.key.id
    edits: dict[str, Callable[[Any], object]] = {
        "revoke": lambda s: keys.revoke(s, key),
        "zdr": lambda s: workspaces.update(s, ws, {"zdr_enabled": True}, actor="t"),
        "keep_audio": lambda s: workspaces.update(s, ws, {"keep_input_audio": True}, actor="t"),
        "restrict": lambda s: workspaces.restrict(s, ws, "test"),
        "delete": lambda s: delete_workspace(s, ws, keep_billing_totals=False),
    }
    told: list[SessionRevoked] = []
    ctx.lease.on_revoke(told.append)
    change(ctx, edits[what])
    assert check_held(ctx) == 1
    assert [e.message for e in told] == [message]
    assert ctx.lease.error is told[0]
    assert told[0].code == "session_revoked"
    # Checked again, it is not revoked (nor told) twice.
    assert check_held(ctx) == 0
    assert len(told) == 1


def test_a_revoked_session_retains_nothing_more(make_context: ContextFactory) -> None:
    ctx = make_context(Product.STT)
    ctx.decide(RequestFlags())
    utterance = ctx.child(inherit_decision=True)
    assert ctx.retaining and utterance.retaining
    change(ctx, lambda s: workspaces.update(s, ctx.workspace.id, {"zdr_enabled": True}, actor="t"))
    check_held(ctx)
    # Decided under "retain", but the workspace switched: neither the socket nor its utterances
    # gather or keep anything from now on.
    assert not ctx.retaining and not utterance.retaining
    with pytest.raises(RetentionViolation):
        anyio.run(ctx.retain, CONTENT)
    with pytest.raises(RetentionViolation):
        anyio.run(utterance.retain, CONTENT)


def test_a_closed_session_is_no_longer_checked(make_context: ContextFactory) -> None:
    ctx = make_context(Product.STT)
    sessions = ctx.services.sessions
    with sessions.holding(ctx.lease):
        assert len(sessions) == 1
    assert len(sessions) == 0
    change(ctx, lambda s: keys.revoke(s, ctx.key.id))
    assert anyio.run(sessions.check, ctx.services.key_standing) == 0
    assert not ctx.lease.revoked


def test_a_poke_checks_at_once_not_at_the_next_interval(make_context: ContextFactory) -> None:
    ctx = make_context(Product.STT)
    sessions = ctx.services.sessions
    change(ctx, lambda s: keys.revoke(s, ctx.key.id))

    async def main() -> float:
        with sessions.holding(ctx.lease):
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(sessions.run_forever, ctx.services.key_standing, 3600.0)
                await anyio.sleep(0.05)
                started = anyio.current_time()
                sessions.poke()
                with anyio.fail_after(5):
                    while not ctx.lease.revoked:
                        await anyio.sleep(0.01)
                tasks.cancel_scope.cancel()
                return anyio.current_time() - started

    assert anyio.run(main) < 2.0
