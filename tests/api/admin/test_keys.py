"""A workspace's keys, for its admin: list (never the keys), create (shown once), revoke."""

from __future__ import annotations

import httpx

from tests.harness import Creds, RunningServer


def call(
    server: RunningServer, key: str, method: str, path: str, **kwargs: object
) -> httpx.Response:
    return httpx.request(method, server.url + path, headers={"xi-api-key": key}, **kwargs)  # type: ignore[arg-type]


def test_an_admin_creates_lists_and_revokes_keys(server: RunningServer, workspace: Creds) -> None:
    made = call(server, workspace.api_key, "POST", "/v1/workspace/keys", json={})
    assert made.status_code == 200
    member = made.json()
    assert member["is_admin"] is False and member["api_key"].startswith("sv_")
    assert call(server, member["api_key"], "GET", "/v1/workspace").json()["is_admin_key"] is False

    listed = call(server, workspace.api_key, "GET", "/v1/workspace/keys")
    keys = listed.json()["keys"]
    assert len(keys) == 2
    assert member["api_key"] not in listed.text and workspace.api_key not in listed.text
    assert [k["is_current"] for k in keys] == [True, False]
    assert member["api_key"].startswith(keys[1]["prefix"])

    revoked = call(server, workspace.api_key, "DELETE", f"/v1/workspace/keys/{member['key_id']}")
    assert revoked.json() == {"status": "revoked", "key_id": member["key_id"]}
    assert call(server, member["api_key"], "GET", "/v1/workspace").status_code == 401

    log = call(server, workspace.api_key, "GET", "/v1/workspace/audit-log").json()["entries"]
    assert [(e["setting"], e["old_value"], e["new_value"]) for e in log] == [
        ("api_key_created", None, member["key_id"]),
        ("api_key_revoked", member["key_id"], None),
    ]


def test_members_cannot_touch_keys_and_nobody_revokes_their_own(
    server: RunningServer, workspace: Creds
) -> None:
    member = server.create_key(workspace.workspace_id)
    for method, path in (
        ("GET", "/v1/workspace/keys"),
        ("POST", "/v1/workspace/keys"),
        ("DELETE", "/v1/workspace/keys/key_x"),
    ):
        refused = call(server, member, method, path, json={})
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "admin_required"
    own = call(server, workspace.api_key, "GET", "/v1/workspace/keys").json()["keys"][0]
    itself = call(server, workspace.api_key, "DELETE", f"/v1/workspace/keys/{own['key_id']}")
    assert itself.status_code == 409


def test_another_workspaces_key_is_not_found(server: RunningServer, workspace: Creds) -> None:
    other = server.create_workspace("other")
    theirs = call(server, other.api_key, "GET", "/v1/workspace/keys").json()["keys"][0]
    gone = call(server, workspace.api_key, "DELETE", f"/v1/workspace/keys/{theirs['key_id']}")
    assert gone.status_code == 404
    assert call(server, other.api_key, "GET", "/v1/workspace").status_code == 200
