"""Process-level side channels: no core dumps, nothing in TMPDIR."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.harness import Creds, RunningServer


def test_core_dumps_are_disabled_in_the_server(server: RunningServer) -> None:
    limits = Path(f"/proc/{server.proc.pid}/limits").read_text()
    [line] = [x for x in limits.splitlines() if x.startswith("Max core file size")]
    assert line.split()[4:6] == ["0", "0"]


def test_request_handling_writes_no_temp_files(server: RunningServer, workspace: Creds) -> None:
    h = {"xi-api-key": workspace.api_key}
    before = set(server.tmp_dir.rglob("*"))  # the server is shared: only what these requests made
    for _ in range(3):
        httpx.get(f"{server.url}/v1/history", headers=h, params={"search": "x" * 500})
        httpx.patch(f"{server.url}/v1/workspace", headers=h, content=b"{" * 5000)
    assert set(server.tmp_dir.rglob("*")) - before == set()
