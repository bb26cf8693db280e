"""Audit probes for sottovoce's own routes: a history search term is content."""

from __future__ import annotations

from sottovoce.audit.probe import Probe, ProbeClient


def _history_search(client: ProbeClient) -> None:
    # A search term is content: it must not reach logs, even on the error path.
    ok = client.marker("history.search", "success")
    client.send(ok, "GET", "/v1/history", params={"search": ok.marker})
    bad = client.marker("history.search", "validation_error")
    client.send(bad, "GET", "/v1/history", params={"search": bad.marker, "page_size": "0"})


PROBES = (Probe("history.search", (("GET", "/v1/history"),), _history_search),)
