"""Deleting a workspace over the API: admin key, explicit confirmation, nothing left to read."""

from __future__ import annotations

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
from tests.polling import wait_for

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


def finished_deletions(server: RunningServer) -> float:
    """Successful ``DELETE /v1/workspace`` requests the server has finished (``/metrics``)."""
    text = httpx.get(f"{server.url}/metrics").text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("sottovoce_requests_total{")
        and 'route="/v1/workspace"' in line
        and 'method="DELETE"' in line
        and 'status="2xx"' in line
    )


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
    deletions = finished_deletions(server)
    r = delete(server, workspace.api_key, workspace.workspace_id)
    assert r.json() == {"status": "deleted", "workspace_id": workspace.workspace_id}
    # The deleting request is wound down (and would have written its usage) after the response:
    # wait until the server has counted it as finished, then look.
    wait_for(lambda: finished_deletions(server) > deletions, "the deletion to be counted")
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

    def swept() -> bool:
        with server.store.session() as s:
            return s.get(HistoryRow, old) is None

    wait_for(swept, "the sweeper to remove the expired item")
    with server.store.session() as s:
        assert s.get(HistoryRow, old) is None
        assert s.get(HistoryRow, fresh) is not None
