"""Agents, conversations and signed URLs in the store: sealed documents, audited privacy
changes, expiry by the sweeper, single-use signatures, and deletion of the workspace.

Runs on SQLite and on a real PostgreSQL server.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sottovoce.config import Settings
from sottovoce.errors import NotFound
from sottovoce.privacy.eligibility import HistorySource, Product
from sottovoce.privacy.policy import Plan, RequestFlags, WorkspaceRetention, decide
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.store import agents, audit_log, conversations, history, keys, signed_urls, workspaces
from sottovoce.store.agents import AgentPrivacy
from sottovoce.store.backups import DAY_MS
from sottovoce.store.conversations import ConversationMeta
from sottovoce.store.db import Store
from sottovoce.store.history import HistoryContent, NewHistoryItem
from sottovoce.store.ids import new_id, now_ms
from sottovoce.store.signed_urls import Grant
from sottovoce.store.sweeper import RetentionSweeper
from sottovoce.store.workspace_deletion import delete_workspace
from tests.harness import new_canary

pytestmark = pytest.mark.both_databases
RETAIN = decide(WorkspaceRetention(zdr_enabled=False), RequestFlags(), Product.AGENT)


@pytest.fixture
def settings(tmp_path: Path, database_url: Callable[[Path], str]) -> Settings:
    return Settings(data_dir=tmp_path, database_url=database_url(tmp_path))


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    s = Store.from_settings(settings)
    s.migrate()
    yield s
    s.close()


@pytest.fixture
def workspace_id(store: Store) -> str:
    with store.session() as s:
        return workspaces.create(s, "w", Plan.ENTERPRISE, False).id


def database_bytes(store: Store) -> bytes:
    store.checkpoint()
    if store.is_sqlite:
        path = Path(store.url.split("///", 1)[1])
        return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    with store.engine.connect() as c:
        rows = c.exec_driver_sql("SELECT document FROM agents").all()
    return b"".join(bytes(r[0]) for r in rows)


def test_an_agent_document_is_sealed_and_its_privacy_changes_are_audited(
    store: Store, workspace_id: str
) -> None:
    canary = new_canary()
    doc = Sensitive({"name": canary, "conversation_config": {"agent": {"prompt": canary}}})
    with store.session() as s:
        agent = agents.create(s, workspace_id, doc, AgentPrivacy(), "key_a")
    assert canary.encode() not in database_bytes(store)
    with store.session() as s:
        assert agents.get(s, workspace_id, agent.id).document.reveal()["name"] == canary
        agents.update(s, workspace_id, agent.id, doc, AgentPrivacy(zero_retention_mode=True), "k")
        changes = [
            e for e in audit_log.list_for(s, workspace_id, 100) if "zero_retention" in e.setting
        ]
    assert [(c.old_value, c.new_value) for c in changes] == [(None, False), (False, True)]
    with store.session() as s:
        agents.delete(s, workspace_id, agent.id)
        with pytest.raises(NotFound):
            agents.get(s, workspace_id, agent.id)


def _conversation(store: Store, workspace_id: str, retention_days: int, started: int) -> str:
    with store.session() as s:
        item = NewHistoryItem.of(
            HistoryContent(source=HistorySource.AGENT, model_id=None, text=Sensitive("hi")),
            workspace_id=workspace_id,
            request_id="req_x",
        )
        item_id = history.save(s, RETAIN, item)
        conversation_id = new_id("conv")
        conversations.record(
            s,
            ConversationMeta(
                id=conversation_id,
                workspace_id=workspace_id,
                agent_id="agent_x",
                history_item_id=item_id,
                started_at_ms=started,
                duration_ms=1000,
                message_count=1,
                status="done",
                termination_reason="client_closed",
                has_audio=False,
                expires_at_ms=conversations.expiry(started, retention_days),
            ),
        )
    return conversation_id


def test_the_sweeper_deletes_conversations_past_their_agents_retention(
    store: Store, settings: Settings, workspace_id: str
) -> None:
    start = now_ms()
    short = _conversation(store, workspace_id, 1, start)
    kept = _conversation(store, workspace_id, -1, start)
    report = RetentionSweeper(store, settings, clock=lambda: start + 2 * DAY_MS).run_once()
    assert report.conversations_expired == 1
    with store.session() as s:
        with pytest.raises(NotFound):
            conversations.get(s, workspace_id, short)
        assert conversations.get(s, workspace_id, kept)[1].text is not None
        assert [c.id for c in conversations.list_page(s, workspace_id, 10).conversations] == [kept]


def test_a_signature_opens_once_and_not_after_it_expires(store: Store, workspace_id: str) -> None:
    with store.session() as s:
        key = keys.create(s, workspace_id, is_admin=False).key
        grant = Grant(workspace_id, key.id, "agent_x")
        once = signed_urls.issue(s, grant, ttl_s=60)
        stale = signed_urls.issue(s, grant, ttl_s=-1)
    with store.session() as s:
        assert signed_urls.redeem(s, once) == grant
    with store.session() as s:
        assert signed_urls.redeem(s, once) is None
        assert signed_urls.redeem(s, stale) is None
        assert signed_urls.redeem(s, "never-issued") is None


def test_deleting_the_workspace_deletes_its_agents_and_conversations(
    store: Store, workspace_id: str
) -> None:
    with store.session() as s:
        agent = agents.create(s, workspace_id, Sensitive({"name": "a"}), AgentPrivacy(), "k")
    conversation = _conversation(store, workspace_id, 30, now_ms())
    with store.session() as s:
        delete_workspace(s, workspace_id, keep_billing_totals=False)
    with store.session() as s:
        with pytest.raises(NotFound):
            agents.get(s, workspace_id, agent.id)
        with pytest.raises(NotFound):
            conversations.get(s, workspace_id, conversation)
        with s.bind.connect() as c:  # type: ignore[union-attr]
            for table in ("agents", "conversations", "agent_signed_urls"):
                assert c.exec_driver_sql(f"SELECT COUNT(*) FROM {table}").scalar() == 0
