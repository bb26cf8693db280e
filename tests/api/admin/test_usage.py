"""Usage records: one for every authenticated request, on every path, with no content field."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.harness import Creds, RunningServer
from tests.polling import wait_for

pytestmark = pytest.mark.both_databases

CONTENT_FREE_FIELDS = {
    "request_id",
    "workspace_id",
    "key_id",
    "product",
    "model_id",
    "started_at_ms",
    "duration_ms",
    "input_units",
    "input_unit",
    "output_units",
    "output_unit",
    "status_code",
    "outcome",
    "error_code",
    "content_retained",
    "zero_retention",
    "retention_reason",
}


def usage(server: RunningServer, creds: Creds, **params: object) -> dict:  # type: ignore[type-arg]
    r = httpx.get(f"{server.url}/v1/usage", headers={"xi-api-key": creds.api_key}, params=params)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def metered(server: RunningServer, creds: Creds, *responses: httpx.Response) -> None:
    """Wait until the usage of these requests is recorded: a record is written just after its
    response, so a client can ask for it before it is there."""
    ids = {r.headers["request-id"] for r in responses}
    wait_for(
        lambda: ids <= {r["request_id"] for r in usage(server, creds)["records"]},
        f"the usage records of {sorted(ids)}",
    )


def test_success_and_error_paths_are_metered(server: RunningServer, workspace: Creds) -> None:
    h = {"xi-api-key": workspace.api_key}
    ok = httpx.get(f"{server.url}/v1/workspace", headers=h)
    not_found = httpx.get(f"{server.url}/v1/history/hist_missing", headers=h)
    invalid = httpx.patch(f"{server.url}/v1/workspace", headers=h, json={"zdr_enabled": 3})
    bad_json = httpx.patch(
        f"{server.url}/v1/workspace",
        headers={**h, "content-type": "application/json"},
        content=b"{not json",
    )
    metered(server, workspace, ok, not_found, invalid, bad_json)
    records = {r["request_id"]: r for r in usage(server, workspace)["records"]}
    for response, status, product in (
        (ok, 200, "workspace"),
        (not_found, 404, "history"),
        (invalid, 422, "workspace"),
        (bad_json, 400, "workspace"),
    ):
        record = records[response.headers["request-id"]]
        assert record["status_code"] == status
        assert record["product"] == product
        assert record["outcome"] == ("ok" if status == 200 else "error")


def test_records_have_only_content_free_fields(server: RunningServer, workspace: Creds) -> None:
    got = httpx.get(f"{server.url}/v1/workspace", headers={"xi-api-key": workspace.api_key})
    metered(server, workspace, got)
    [record, *_] = usage(server, workspace)["records"]
    assert set(record) == CONTENT_FREE_FIELDS


def test_filters_and_totals(server: RunningServer, workspace: Creds) -> None:
    h = {"xi-api-key": workspace.api_key}
    sent = [httpx.get(f"{server.url}/v1/workspace", headers=h) for _ in range(3)]
    sent.append(httpx.get(f"{server.url}/v1/history", headers=h))
    metered(server, workspace, *sent)
    only_workspace = usage(server, workspace, product="workspace")
    assert {r["product"] for r in only_workspace["records"]} == {"workspace"}
    totals = {t["product"]: t["requests"] for t in usage(server, workspace)["totals"]}
    assert totals["workspace"] == 3
    assert totals["history"] == 1
    future = int(time.time()) + 3600
    assert usage(server, workspace, start_unix=future)["records"] == []


def test_usage_of_another_workspace_is_invisible(server: RunningServer, workspace: Creds) -> None:
    other = server.create_workspace("other")
    theirs = httpx.get(f"{server.url}/v1/workspace", headers={"xi-api-key": other.api_key})
    metered(server, other, theirs)
    ids = {r["workspace_id"] for r in usage(server, workspace)["records"]}
    assert ids <= {workspace.workspace_id}


def test_unknown_product_filter_is_422(server: RunningServer, workspace: Creds) -> None:
    r = httpx.get(
        f"{server.url}/v1/usage",
        headers={"xi-api-key": workspace.api_key},
        params={"product": "nonsense"},
    )
    assert r.status_code == 422
    assert r.json()["error"]["fields"] == ["product"]


@pytest.mark.parametrize("name", ["start_unix", "end_unix"])
def test_a_time_beyond_year_9999_is_a_clean_422(
    server: RunningServer, workspace: Creds, name: str
) -> None:
    # x1000 passes 64 bits: this once reached the database driver and came back a 500.
    r = httpx.get(
        f"{server.url}/v1/usage",
        params={name: "9223372036854776"},
        headers={"xi-api-key": workspace.api_key},
    )
    assert r.status_code == 422
    assert r.json()["error"]["fields"] == [name]
