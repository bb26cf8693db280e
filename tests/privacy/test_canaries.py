"""Canaries through the foundation's endpoints: nothing of a ZDR request is persisted anywhere.

Each test sends a unique marker through an endpoint (in bodies, query strings, paths, headers,
on success and on error paths) and then searches every place the server persists: database
file and WAL, captured stdout/stderr, the configured log file, the data directory and TMPDIR.
The negative control proves the search finds a marker that was kept. The server logs at DEBUG
(every test server does: see ``tests/harness.py``), into the log file the search reads too.
"""

from __future__ import annotations

import httpx
import pytest

from sottovoce.errors import RetentionViolation
from sottovoce.privacy.eligibility import HistorySource, Product
from sottovoce.privacy.policy import RequestFlags, decide
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.store import history, workspaces
from sottovoce.store.history import NewHistoryItem
from tests.harness import Creds, RunningServer, new_canary
from tests.polling import wait_for

pytestmark = pytest.mark.both_databases


def sweep(server: RunningServer, marker: str) -> list[str]:
    server.store.checkpoint()
    return server.find_marker(marker)


def test_zdr_requests_leave_no_marker_but_leave_usage(
    server: RunningServer, zdr_workspace: Creds
) -> None:
    marker = new_canary()
    h = {"xi-api-key": zdr_workspace.api_key}
    url = server.url
    responses = [
        httpx.get(f"{url}/v1/history", headers=h, params={"search": marker}),
        httpx.get(f"{url}/v1/history/{marker}", headers=h),
        httpx.get(f"{url}/v1/history/{marker}/audio", headers=h),
        httpx.delete(f"{url}/v1/history/{marker}", headers=h),
        httpx.get(f"{url}/v1/usage", headers=h, params={"product": marker}),
        httpx.patch(f"{url}/v1/workspace", headers=h, json={"name": 5, marker: marker}),
        httpx.patch(f"{url}/v1/workspace", headers=h, json={"zdr_enabled": marker}),
        httpx.patch(
            f"{url}/v1/workspace",
            headers={**h, "content-type": "application/json"},
            content=f'{{"name": "{marker}'.encode(),
        ),
        httpx.patch(
            f"{url}/v1/workspace", headers={**h, "content-type": "text/plain"}, content=marker
        ),
        httpx.get(f"{url}/v1/{marker}", headers=h),
        httpx.get(f"{url}/v1/workspace", headers={"xi-api-key": marker}),
        httpx.get(f"{url}/v1/workspace", headers={**h, "x-custom": marker}),
        httpx.get(f"{url}/v1/workspace?{marker}={marker}", headers=h),
    ]
    assert all(r.status_code < 500 for r in responses)
    # Every authenticated request leaves a record (the wrong-key and no-route ones cannot),
    # written just after its response: wait for them, then search (they are in the database).
    expected = {r.headers["request-id"] for r in responses[:9]}

    def metered() -> set[str]:
        records = httpx.get(f"{url}/v1/usage", headers=h).json()["records"]
        return {r["request_id"] for r in records} & expected

    wait_for(lambda: metered() == expected, "the usage records of the ZDR requests")
    assert sweep(server, marker) == []


def test_a_zdr_decision_cannot_be_saved_to_history(
    server: RunningServer, zdr_workspace: Creds
) -> None:
    marker = new_canary()
    with server.store.session() as s:
        ws = workspaces.get(s, zdr_workspace.workspace_id)
    decision = decide(ws.retention, RequestFlags(enable_logging=True), Product.TTS)
    item = NewHistoryItem(
        workspace_id=ws.id,
        request_id="req_x",
        source=HistorySource.TTS,
        model_id=None,
        text=Sensitive(marker),
    )
    with pytest.raises(RetentionViolation), server.store.session() as s:
        history.save(s, decision, item)
    assert sweep(server, marker) == []


def test_negative_control_finds_retained_content(server: RunningServer, workspace: Creds) -> None:
    marker = new_canary()
    with server.store.session() as s:
        ws = workspaces.get(s, workspace.workspace_id)
        decision = decide(ws.retention, RequestFlags(), Product.TTS)
        history.save(
            s,
            decision,
            NewHistoryItem(
                workspace_id=ws.id,
                request_id="req_x",
                source=HistorySource.TTS,
                model_id=None,
                text=Sensitive(f"kept {marker}"),
            ),
        )
    found = sweep(server, marker)
    assert any("(decrypted)" in place for place in found)
    # ...and only there: at rest it is ciphertext.
    assert not any("sottovoce.db" in place for place in found)
    r = httpx.get(f"{server.url}/v1/history", headers={"xi-api-key": workspace.api_key})
    assert marker in r.text


@pytest.mark.parametrize("form", ["url", "utf-16-le", "base64-0", "base64-1", "base64-2"])
def test_the_search_finds_every_form(server: RunningServer, form: str) -> None:
    from tests.harness import marker_forms

    marker = new_canary()
    (server.data_dir / f"probe-{form}.bin").write_bytes(b"xx" + marker_forms(marker)[form] + b"yy")
    assert any(f"({form})" in place for place in server.find_marker(marker))
    (server.data_dir / f"probe-{form}.bin").unlink()
