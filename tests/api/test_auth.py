"""Keys: accepted in every header the vendor SDKs use; anything else is 401; tenants are apart."""

from __future__ import annotations

import base64

import httpx
import pytest

from tests.harness import Creds, RunningServer

pytestmark = pytest.mark.both_databases


def headers_for(scheme: str, key: str) -> dict[str, str]:
    return {
        "xi-api-key": {"xi-api-key": key},
        "bearer": {"Authorization": f"Bearer {key}"},
        "x-api-key": {"X-API-Key": key},
        "token": {"Authorization": f"Token {key}"},
        "basic-raw": {"Authorization": f"Basic {key}"},
        "basic-encoded": {
            "Authorization": "Basic " + base64.b64encode(f"u:{key}".encode()).decode()
        },
        "raw": {"Authorization": key},
    }[scheme]


@pytest.mark.parametrize(
    "scheme", ["xi-api-key", "bearer", "x-api-key", "token", "basic-raw", "basic-encoded", "raw"]
)
def test_every_sdk_header_is_accepted(server: RunningServer, workspace: Creds, scheme: str) -> None:
    r = httpx.get(f"{server.url}/v1/workspace", headers=headers_for(scheme, workspace.api_key))
    assert r.status_code == 200
    assert r.json()["workspace_id"] == workspace.workspace_id


@pytest.mark.parametrize(
    "headers",
    [{}, {"xi-api-key": "sv_wrong"}, {"Authorization": "Bearer"}, {"Authorization": "Bearer x"}],
)
def test_missing_or_wrong_key_is_401(server: RunningServer, headers: dict[str, str]) -> None:
    r = httpx.get(f"{server.url}/v1/workspace", headers=headers)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthorized"
    assert r.headers["request-id"] == r.json()["error"]["request_id"]


def test_revoked_key_is_401(server: RunningServer, workspace: Creds) -> None:
    from sottovoce.store import keys

    with server.store.session() as s:
        created = keys.create(s, workspace.workspace_id, is_admin=False)
    assert httpx.get(
        f"{server.url}/v1/workspace", headers={"xi-api-key": created.secret}
    ).is_success
    with server.store.session() as s:
        keys.revoke(s, created.key.id)
    r = httpx.get(f"{server.url}/v1/workspace", headers={"xi-api-key": created.secret})
    assert r.status_code == 401


def test_keys_are_stored_only_as_hashes(server: RunningServer, workspace: Creds) -> None:
    server.store.checkpoint()
    assert server.find_marker(workspace.api_key) == []
