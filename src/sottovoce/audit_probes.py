"""The audit's probes: one per content endpoint, each sending canaries down every path.

Every route the server has is either covered by a probe here or listed in
``CONTENT_FREE_ROUTES`` (endpoints that take no request content). A test builds the app and
fails when a route is in neither, so a new endpoint cannot ship without an audit probe.

A probe gets a :class:`~sottovoce.audit.ProbeClient`; for each path it asks for a fresh marker
(``client.marker(probe, path, ...)``), sends it, and records the status. Paths that should reach
history when retention is on say ``retained=True``: the negative control expects them there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sottovoce.audit import ProbeClient

Route = tuple[str, str]
"""(method, path template); method ``WS`` for WebSockets."""


@dataclass(frozen=True)
class Probe:
    name: str
    routes: tuple[Route, ...]
    run: Callable[[ProbeClient], None]


CONTENT_FREE_ROUTES: frozenset[Route] = frozenset(
    {
        ("GET", "/healthz"),
        ("GET", "/metrics"),
        ("GET", "/openapi.json"),
        ("GET", "/docs"),
        ("HEAD", "/docs"),
        ("GET", "/docs/oauth2-redirect"),
        ("HEAD", "/docs/oauth2-redirect"),
        ("HEAD", "/openapi.json"),
        ("GET", "/v1/workspace"),
        ("PATCH", "/v1/workspace"),
        ("DELETE", "/v1/workspace"),
        ("GET", "/v1/workspace/audit-log"),
        ("GET", "/v1/usage"),
        ("GET", "/v1/history/{history_item_id}"),
        ("GET", "/v1/history/{history_item_id}/audio"),
        ("DELETE", "/v1/history/{history_item_id}"),
    }
)


def _history_search(client: ProbeClient) -> None:
    # A search term is content: it must not reach logs, even on the error path.
    ok = client.marker("history.search", "success")
    r = client.http.get("/v1/history", params={"search": ok.marker}, headers=client.auth)
    ok.status = r.status_code
    bad = client.marker("history.search", "validation_error")
    r = client.http.get(
        "/v1/history", params={"search": bad.marker, "page_size": "0"}, headers=client.auth
    )
    bad.status = r.status_code


PROBES: list[Probe] = [
    Probe("history.search", (("GET", "/v1/history"),), _history_search),
]
