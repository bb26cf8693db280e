"""Errors: one JSON shape, stable codes, a request id, never a 500, never the request's content."""

from __future__ import annotations

import httpx
import pytest

from tests.harness import Creds, RunningServer
from tests.polling import wait_for


@pytest.fixture
def small(limits_server: RunningServer) -> RunningServer:
    """The server with small limits: a JSON body over 1 KB is too large."""
    return limits_server


def error_of(r: httpx.Response) -> dict:  # type: ignore[type-arg]
    body = r.json()
    assert set(body) == {"error"}
    assert body["error"]["request_id"] == r.headers["request-id"]
    return body["error"]  # type: ignore[no-any-return]


def test_unknown_route_and_method(server: RunningServer) -> None:
    assert error_of(httpx.get(f"{server.url}/v1/nothing"))["code"] == "route_not_found"
    r = httpx.delete(f"{server.url}/healthz")
    assert r.status_code == 405
    assert error_of(r)["code"] == "method_not_allowed"


def test_bad_json_is_400_without_echo(server: RunningServer, workspace: Creds, canary: str) -> None:
    r = httpx.patch(
        f"{server.url}/v1/workspace",
        headers={"xi-api-key": workspace.api_key, "content-type": "application/json"},
        content=f'{{"name": "{canary}"'.encode(),
    )
    assert r.status_code == 400
    assert error_of(r)["code"] == "invalid_json"
    assert canary not in r.text


def test_invalid_utf8_is_a_clean_4xx(server: RunningServer, workspace: Creds) -> None:
    r = httpx.patch(
        f"{server.url}/v1/workspace",
        headers={"xi-api-key": workspace.api_key, "content-type": "application/json"},
        content=b'{"name": "\xff\xfe"}',
    )
    assert 400 <= r.status_code < 500
    error_of(r)


def test_wrong_content_type_is_415(server: RunningServer, workspace: Creds) -> None:
    r = httpx.patch(
        f"{server.url}/v1/workspace",
        headers={"xi-api-key": workspace.api_key, "content-type": "text/plain"},
        content=b'{"name": "x"}',
    )
    assert r.status_code == 415
    assert error_of(r)["code"] == "unsupported_media_type"


def test_validation_names_the_field_not_the_value(
    server: RunningServer, workspace: Creds, canary: str
) -> None:
    r = httpx.patch(
        f"{server.url}/v1/workspace",
        headers={"xi-api-key": workspace.api_key},
        json={"zdr_enabled": canary},
    )
    assert r.status_code == 422
    assert error_of(r)["fields"] == ["zdr_enabled"]
    assert canary not in r.text


def test_oversized_json_is_413(small: RunningServer) -> None:
    creds = small.create_workspace()
    r = httpx.patch(
        f"{small.url}/v1/workspace",
        headers={"xi-api-key": creds.api_key},
        json={"name": "x" * 2000},
    )
    assert r.status_code == 413
    assert error_of(r)["code"] == "payload_too_large"


def test_oversized_chunked_body_is_413(small: RunningServer) -> None:
    creds = small.create_workspace()

    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(10):
            yield b"x" * 1000

    r = httpx.patch(
        f"{small.url}/v1/workspace",
        headers={"xi-api-key": creds.api_key, "content-type": "application/json"},
        content=chunks(),
    )
    assert r.status_code == 413
    assert error_of(r)["code"] == "payload_too_large"


def test_oversized_requests_are_still_metered(small: RunningServer) -> None:
    creds = small.create_workspace()
    r = httpx.patch(
        f"{small.url}/v1/workspace", headers={"xi-api-key": creds.api_key}, json={"n": "x" * 2000}
    )
    # The record is written just after the response: ask until it is there.
    [record] = wait_for(
        lambda: [
            x
            for x in httpx.get(
                f"{small.url}/v1/usage", headers={"xi-api-key": creds.api_key}
            ).json()["records"]
            if x["request_id"] == r.headers["request-id"]
        ],
        "the usage record of the refused request",
    )
    assert (record["status_code"], record["error_code"]) == (413, "payload_too_large")


def test_every_response_has_a_request_id(server: RunningServer) -> None:
    ids = {httpx.get(f"{server.url}/healthz").headers["request-id"] for _ in range(3)}
    assert len(ids) == 3
    assert all(i.startswith("req_") for i in ids)


def test_a_trailing_slash_is_not_redirected_to_the_host_the_client_named(
    server: RunningServer, workspace: Creds
) -> None:
    r = httpx.get(
        f"{server.url}/v1/history/x/",
        headers={"xi-api-key": workspace.api_key, "Host": "evil.example"},
        follow_redirects=False,
    )
    assert r.status_code == 404
    assert "location" not in r.headers
    assert error_of(r)["code"] == "route_not_found"
