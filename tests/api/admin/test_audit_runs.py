"""The canary audit started through the API (the console's Proof page): admin keys of ZDR
workspaces only, one run at a time, its report kept for the workspace that asked."""

from __future__ import annotations

from typing import Any

import httpx

from tests.harness import Creds, RunningServer
from tests.polling import wait_for


def call(server: RunningServer, key: str, method: str, json: Any = None) -> httpx.Response:
    return httpx.request(
        method, f"{server.url}/v1/workspace/audit", headers={"xi-api-key": key}, json=json
    )


def test_only_an_admin_of_a_zdr_workspace_may_start_it(
    server: RunningServer, workspace: Creds, zdr_workspace: Creds
) -> None:
    refused = call(server, workspace.api_key, "POST", {})
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "retention_refused")
    member = server.create_key(zdr_workspace.workspace_id)
    assert call(server, member, "POST", {}).json()["error"]["code"] == "admin_required"
    assert call(server, member, "GET").status_code == 403
    assert call(server, zdr_workspace.api_key, "GET").json()["state"] == "none"
    unknown = call(server, zdr_workspace.api_key, "POST", {"only": ["no.such.probe"]})
    assert unknown.status_code == 422


def test_a_run_reports_its_probes_and_a_second_one_waits(
    server: RunningServer, zdr_workspace: Creds
) -> None:
    started = call(server, zdr_workspace.api_key, "POST", {"only": ["tts.openai"]})
    assert started.status_code == 200
    assert started.json()["state"] == "running"
    other = server.create_workspace("other zdr", zdr=True)
    assert call(server, other.api_key, "POST", {}).status_code == 409

    def finished() -> dict[str, Any] | None:
        run: dict[str, Any] = call(server, zdr_workspace.api_key, "GET").json()
        return run if run["state"] != "running" else None

    run = wait_for(finished, "the audit's end", timeout=600, interval=1)
    assert run["state"] == "done"
    report = run["report"]
    assert report["ok"] is True, report["problems"]
    assert {r["run"] for r in report["results"]} == {"zdr", "control"}
    assert {r["probe"] for r in report["results"]} == {"tts.openai"}
    assert all(r["probe"] == "tts.openai" for r in report["results"])
    assert all(r["leaks"] == [] for r in report["results"])
    assert report["control_found"] > 0
