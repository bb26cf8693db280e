"""``/metrics``: Prometheus text whose labels come from a fixed set, never from requests."""

from __future__ import annotations

import re

import httpx

from tests.harness import Creds, RunningServer
from tests.polling import wait_for

LABEL = re.compile(r'(\w+)="([^"]*)"')


def scrape(server: RunningServer) -> str:
    r = httpx.get(f"{server.url}/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    return r.text


def workspace_gets(server: RunningServer) -> tuple[str, float]:
    """The counter of successful ``GET /v1/workspace`` requests: its line, and its value."""
    lines = [
        x
        for x in scrape(server).splitlines()
        if x.startswith("sottovoce_requests_total{")
        and 'route="/v1/workspace"' in x
        and 'method="GET"' in x
        and 'status="2xx"' in x
    ]
    if not lines:
        return "", 0.0
    [line] = lines
    return line, float(line.rsplit(" ", 1)[1])


def test_requests_are_counted_by_product_route_and_status(
    server: RunningServer, workspace: Creds
) -> None:
    # The server is shared: count from what it had counted before.
    _, before = workspace_gets(server)
    h = {"xi-api-key": workspace.api_key}
    for _ in range(3):
        httpx.get(f"{server.url}/v1/workspace", headers=h)

    def counted() -> tuple[str, float] | None:
        line, value = workspace_gets(server)
        return (line, value) if value >= before + 3 else None

    # A request is counted just after its response: ask until all three are.
    line, after = wait_for(counted, "three more GET /v1/workspace counted")
    assert 'product="workspace"' in line
    assert after == before + 3


def test_no_label_carries_request_content(
    server: RunningServer, workspace: Creds, canary: str
) -> None:
    h = {"xi-api-key": workspace.api_key}
    httpx.get(f"{server.url}/v1/{canary}", headers=h)
    httpx.get(f"{server.url}/v1/history/{canary}", headers=h, params={canary: canary})
    httpx.request(canary[:12].upper(), f"{server.url}/v1/workspace", headers=h)
    httpx.get(f"{server.url}/v1/history", headers={**h, "x-anything": canary})
    text = scrape(server)
    assert canary not in text
    assert canary[:12].upper() not in text
    values: dict[str, set[str]] = {}
    for name, value in LABEL.findall(text):
        values.setdefault(name, set()).add(value)
    assert values["method"] <= {
        "GET",
        "POST",
        "PUT",
        "PATCH",
        "DELETE",
        "HEAD",
        "OPTIONS",
        "WS",
        "other",
    }
    assert values["status"] <= {"1xx", "2xx", "3xx", "4xx", "5xx"}
    assert "unmatched" in values["route"]
    assert all(v == "unmatched" or v.startswith("/") for v in values["route"])
    assert all("CANARY" not in v for vs in values.values() for v in vs)
