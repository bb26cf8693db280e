"""Workspace settings: admins change them, each change is audited, ZDR only where allowed."""

from __future__ import annotations

import httpx
import pytest

from sottovoce.privacy.policy import Plan
from sottovoce.store import workspaces
from tests.harness import Creds, RunningServer

pytestmark = pytest.mark.both_databases


def patch(server: RunningServer, key: str, body: object) -> httpx.Response:
    return httpx.patch(f"{server.url}/v1/workspace", headers={"xi-api-key": key}, json=body)


def test_get_shows_the_retention_settings(server: RunningServer, zdr_workspace: Creds) -> None:
    body = httpx.get(
        f"{server.url}/v1/workspace", headers={"xi-api-key": zdr_workspace.api_key}
    ).json()
    assert body["zdr_enabled"] is True
    assert body["plan"] == "enterprise"
    assert body["zdr_available"] is True
    assert body["is_admin_key"] is True


def test_only_admin_keys_change_settings(server: RunningServer, workspace: Creds) -> None:
    member = server.create_key(workspace.workspace_id, admin=False)
    r = patch(server, member, {"zdr_enabled": True})
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "admin_required"
    assert patch(server, workspace.api_key, {"zdr_enabled": True}).json()["zdr_enabled"] is True


def test_each_change_is_in_the_audit_log(server: RunningServer, workspace: Creds) -> None:
    patch(server, workspace.api_key, {"zdr_enabled": True, "keep_input_audio": True})
    patch(server, workspace.api_key, {"zdr_enabled": False})
    patch(server, workspace.api_key, {"zdr_enabled": False})  # no change, no entry
    entries = httpx.get(
        f"{server.url}/v1/workspace/audit-log", headers={"xi-api-key": workspace.api_key}
    ).json()["entries"]
    changes = [(e["setting"], e["old_value"], e["new_value"]) for e in entries]
    assert changes == [
        ("zdr_enabled", False, True),
        ("keep_input_audio", False, True),
        ("zdr_enabled", True, False),
    ]
    assert all(e["actor"].startswith("key_") and e["at_unix_ms"] > 0 for e in entries)


def test_zdr_needs_the_enterprise_plan(server: RunningServer) -> None:
    free = server.create_workspace("free", plan="free")
    r = patch(server, free.api_key, {"zdr_enabled": True})
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "zdr_requires_enterprise"


def test_a_restricted_workspace_is_told_why(server: RunningServer, zdr_workspace: Creds) -> None:
    with server.store.session() as s:
        restricted = workspaces.restrict(s, zdr_workspace.workspace_id, "under abuse review")
    assert restricted.zdr_enabled is False  # withdrawn
    r = patch(server, zdr_workspace.api_key, {"zdr_enabled": True})
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "zdr_withdrawn"
    assert "under abuse review" in r.json()["error"]["message"]
    shown = httpx.get(
        f"{server.url}/v1/workspace", headers={"xi-api-key": zdr_workspace.api_key}
    ).json()
    assert shown["restricted_reason"] == "under abuse review"
    assert shown["zdr_available"] is False


def test_leaving_enterprise_turns_zdr_off(server: RunningServer, zdr_workspace: Creds) -> None:
    with server.store.session() as s:
        assert workspaces.set_plan(s, zdr_workspace.workspace_id, Plan.FREE).zdr_enabled is False


def test_a_whole_number_of_days_may_be_written_as_a_float(
    server: RunningServer, workspace: Creds
) -> None:
    """JSON Schema's integer, which the OpenAPI document declares, counts 30.0 as one."""
    r = patch(server, workspace.api_key, {"history_retention_days": 30.0})
    assert r.status_code == 200, r.text
    assert r.json()["history_retention_days"] == 30


def test_bad_patches_are_422_naming_the_field(server: RunningServer, workspace: Creds) -> None:
    for body, field in (
        ({"zdr_enabled": "yes"}, "zdr_enabled"),
        ({"history_retention_days": 0}, "history_retention_days"),
        ({"history_retention_days": 30.5}, "history_retention_days"),
        ({"history_retention_days": "30"}, "history_retention_days"),
        ({"unknown_setting": True}, "unknown_setting"),
        ({"name": None}, "name"),
    ):
        r = patch(server, workspace.api_key, body)
        assert r.status_code == 422, body
        assert field in r.json()["error"]["fields"]
