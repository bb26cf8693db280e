"""History in ElevenLabs' shape: list, page, filter, fetch, audio, delete; tenants apart.

No product endpoint saves yet in this module, so items are saved through the history function
itself, on the server's own database file, exactly as a product endpoint does.
"""

from __future__ import annotations

import httpx
import pytest

from sottovoce.privacy.eligibility import HistorySource, Product
from sottovoce.privacy.policy import RequestFlags, WorkspaceRetention, decide
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.store import history
from sottovoce.store.history import NewHistoryItem
from tests.harness import Creds, RunningServer

pytestmark = pytest.mark.both_databases

RETAIN = decide(WorkspaceRetention(zdr_enabled=False), RequestFlags(), Product.TTS)


def save(server: RunningServer, creds: Creds, text: str, **extra: object) -> str:
    item = NewHistoryItem(
        workspace_id=creds.workspace_id,
        request_id="req_test",
        source=extra.pop("source", HistorySource.TTS),  # type: ignore[arg-type]
        model_id="local/piper",
        voice_id=extra.pop("voice_id", "joe"),  # type: ignore[arg-type]
        text=Sensitive(text),
        audio=Sensitive(b"RIFF....WAVEfmt "),
        content_type="audio/wav",
    )
    with server.store.session() as s:
        return history.save(s, RETAIN, item)


def get(server: RunningServer, creds: Creds, path: str, **params: object) -> httpx.Response:
    return httpx.get(f"{server.url}{path}", headers={"xi-api-key": creds.api_key}, params=params)


def test_saved_items_are_listed_newest_first(server: RunningServer, workspace: Creds) -> None:
    ids = [save(server, workspace, f"item {i}") for i in range(3)]
    body = get(server, workspace, "/v1/history").json()
    assert [h["history_item_id"] for h in body["history"]] == ids[::-1]
    assert body["history"][0]["text"] == "item 2"
    assert body["history"][0]["source"] == "TTS"
    assert body["last_history_item_id"] == ids[0]
    assert body["has_more"] is False


def test_paging_with_start_after(server: RunningServer, workspace: Creds) -> None:
    ids = [save(server, workspace, f"page {i}") for i in range(5)]
    first = get(server, workspace, "/v1/history", page_size=2).json()
    assert first["has_more"] is True
    rest = get(
        server,
        workspace,
        "/v1/history",
        page_size=10,
        start_after_history_item_id=first["last_history_item_id"],
    ).json()
    seen = [h["history_item_id"] for h in first["history"] + rest["history"]]
    assert seen == ids[::-1]


def test_filters(server: RunningServer, workspace: Creds) -> None:
    a = save(server, workspace, "alpha", voice_id="v-a")
    b = save(server, workspace, "beta", source=HistorySource.STT, voice_id=None)
    by_voice = get(server, workspace, "/v1/history", voice_id="v-a").json()["history"]
    assert [h["history_item_id"] for h in by_voice] == [a]
    by_source = get(server, workspace, "/v1/history", source="STT").json()["history"]
    assert [h["history_item_id"] for h in by_source] == [b]
    by_text = get(server, workspace, "/v1/history", search="ALPH").json()["history"]
    assert [h["history_item_id"] for h in by_text] == [a]


def test_fetch_audio_and_delete(server: RunningServer, workspace: Creds) -> None:
    item_id = save(server, workspace, "to be deleted")
    assert get(server, workspace, f"/v1/history/{item_id}").json()["text"] == "to be deleted"
    audio = get(server, workspace, f"/v1/history/{item_id}/audio")
    assert audio.content == b"RIFF....WAVEfmt "
    assert audio.headers["content-type"] == "audio/wav"
    r = httpx.delete(
        f"{server.url}/v1/history/{item_id}", headers={"xi-api-key": workspace.api_key}
    )
    assert r.json() == {"status": "ok"}
    assert get(server, workspace, f"/v1/history/{item_id}").status_code == 404


def test_deleted_content_is_gone_from_the_database_files(
    server: RunningServer, workspace: Creds, canary: str
) -> None:
    item_id = save(server, workspace, f"secret {canary}")
    server.store.checkpoint()
    # The negative control: the search finds saved content (decrypted with the server's keys).
    assert server.find_marker(canary)
    httpx.delete(f"{server.url}/v1/history/{item_id}", headers={"xi-api-key": workspace.api_key})
    assert server.find_marker(canary) == []


@pytest.mark.parametrize("suffix", ["", "/audio"])
def test_another_workspace_gets_404(server: RunningServer, workspace: Creds, suffix: str) -> None:
    item_id = save(server, workspace, "private")
    other = server.create_workspace("other")
    assert get(server, other, f"/v1/history/{item_id}{suffix}").status_code == 404
    r = httpx.delete(f"{server.url}/v1/history/{item_id}", headers={"xi-api-key": other.api_key})
    assert r.status_code == 404
    assert get(server, other, "/v1/history").json()["history"] == []
    assert get(server, workspace, f"/v1/history/{item_id}").status_code == 200


def test_bad_paging_parameters_are_422(server: RunningServer, workspace: Creds) -> None:
    assert get(server, workspace, "/v1/history", page_size=0).status_code == 422
    assert get(server, workspace, "/v1/history", page_size=1001).status_code == 422
    assert get(server, workspace, "/v1/history", sort_direction="sideways").status_code == 422


@pytest.mark.parametrize(
    ("name", "value"),
    [("date_before_unix", "9223372036854776"), ("date_after_unix", "9223372036854775")],
)
def test_a_time_beyond_year_9999_is_a_clean_422(
    server: RunningServer, workspace: Creds, name: str, value: str
) -> None:
    r = httpx.get(
        f"{server.url}/v1/history", params={name: value}, headers={"xi-api-key": workspace.api_key}
    )
    assert r.status_code == 422
    assert r.json()["error"]["fields"] == [name]
