"""Deleting a workspace over the API: admin key, explicit confirmation, nothing left to read."""

from __future__ import annotations

import time

import httpx
import pytest
from sqlalchemy import select

from sottovoce.privacy.eligibility import HistorySource, Product
from sottovoce.privacy.policy import RequestFlags, WorkspaceRetention, decide
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.store import history, workspaces
from sottovoce.store.history import NewHistoryItem
from sottovoce.store.schema import HistoryRow, UsageRow
from tests.harness import Creds, RunningServer

pytestmark = pytest.mark.both_databases
RETAIN = decide(WorkspaceRetention(zdr_enabled=False), RequestFlags(), Product.TTS)


def save(server: RunningServer, creds: Creds, text: str) -> str:
    item = NewHistoryItem(
        workspace_id=creds.workspace_id,
        request_id="req_t",
        source=HistorySource.TTS,
        model_id=None,
        text=Sensitive(text),
        audio=Sensitive(text.encode() * 50),
    )
    with server.store.session() as s:
        return history.save(s, RETAIN, item)


def delete(server: RunningServer, key: str, confirm: str | None) -> httpx.Response:
    params = {"confirm": confirm} if confirm else {}
    return httpx.delete(f"{server.url}/v1/workspace", headers={"xi-api-key": key}, params=params)


def test_needs_an_admin_key_and_the_workspace_id(server: RunningServer, workspace: Creds) -> None:
    member = server.create_key(workspace.workspace_id, admin=False)
    assert delete(server, member, workspace.workspace_id).json()["error"]["code"] == (
        "admin_required"
    )
    r = delete(server, workspace.api_key, None)
    assert (r.status_code, r.json()["error"]["fields"]) == (422, ["confirm"])
    assert delete(server, workspace.api_key, "ws_other").status_code == 422
    assert httpx.get(
        f"{server.url}/v1/workspace", headers={"xi-api-key": workspace.api_key}
    ).is_success


def test_deletes_everything_it_owns(server: RunningServer, workspace: Creds, canary: str) -> None:
    save(server, workspace, f"owned {canary}")
    httpx.get(f"{server.url}/v1/history", headers={"xi-api-key": workspace.api_key})
    assert server.find_marker(canary)  # the control
    r = delete(server, workspace.api_key, workspace.workspace_id)
    assert r.json() == {"status": "deleted", "workspace_id": workspace.workspace_id}
    time.sleep(0.2)  # the usage write of the deleting request happens after the response
    assert (
        httpx.get(
            f"{server.url}/v1/workspace", headers={"xi-api-key": workspace.api_key}
        ).status_code
        == 401
    )
    server.store.checkpoint()
    assert server.find_marker(canary) == []
    with server.store.session() as s:
        assert workspace.workspace_id not in {w.id for w in workspaces.list_all(s)}
        assert (
            s.scalars(
                select(HistoryRow).where(HistoryRow.workspace_id == workspace.workspace_id)
            ).all()
            == []
        )
        assert (
            s.scalars(select(UsageRow).where(UsageRow.workspace_id == workspace.workspace_id)).all()
            == []
        )


def test_other_workspaces_are_untouched(server: RunningServer, workspace: Creds) -> None:
    other = server.create_workspace("other")
    kept = save(server, other, "not yours")
    delete(server, workspace.api_key, workspace.workspace_id)
    r = httpx.get(f"{server.url}/v1/history/{kept}", headers={"xi-api-key": other.api_key})
    assert r.json()["text"] == "not yours"


def test_the_server_sweeps_expired_history(start_server) -> None:  # type: ignore[no-untyped-def]
    server: RunningServer = start_server(env={"SOTTOVOCE_RETENTION__SWEEP_INTERVAL_S": "0.2"})
    creds = server.create_workspace("short memory")
    r = httpx.patch(
        f"{server.url}/v1/workspace",
        headers={"xi-api-key": creds.api_key},
        json={"history_retention_days": 1},
    )
    assert r.json()["history_retention_days"] == 1
    fresh = save(server, creds, "fresh")
    old = save(server, creds, "old")
    with server.store.session() as s:
        row = s.get(HistoryRow, old)
        assert row is not None
        row.created_at_ms -= 2 * 86_400_000
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with server.store.session() as s:
            if s.get(HistoryRow, old) is None:
                break
        time.sleep(0.1)
    with server.store.session() as s:
        assert s.get(HistoryRow, old) is None
        assert s.get(HistoryRow, fresh) is not None
