"""ElevenLabs' ``POST /v1/history/download``: one item's audio as a file, several as a zip
built in memory; errors in ElevenLabs' shape; nothing of a request left behind."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

import httpx
import pytest
from elevenlabs.client import ElevenLabs

from tests.harness import Creds, RunningServer
from tests.polling import wait_for


def speak(server: RunningServer, creds: Creds, text: str, output_format: str) -> str:
    """Synthesize into history; return the item's id."""
    headers = {"xi-api-key": creds.api_key}
    reply = httpx.post(
        f"{server.url}/v1/text-to-speech/joe",
        params={"output_format": output_format},
        headers=headers,
        json={"text": text},
        timeout=120,
    )
    assert reply.status_code == 200
    request_id = reply.headers["request-id"]

    def kept() -> list[str]:
        page = httpx.get(f"{server.url}/v1/history", headers=headers, params={"page_size": 1000})
        return [
            i["history_item_id"] for i in page.json()["history"] if i["request_id"] == request_id
        ]

    (item_id,) = wait_for(kept, "the history item")
    return item_id


def stored_audio(server: RunningServer, creds: Creds, item_id: str) -> bytes:
    reply = httpx.get(
        f"{server.url}/v1/history/{item_id}/audio", headers={"xi-api-key": creds.api_key}
    )
    assert reply.status_code == 200
    return reply.content


@pytest.fixture
def eleven(server: RunningServer, workspace: Creds) -> Iterator[ElevenLabs]:
    with httpx.Client(timeout=60) as http:
        yield ElevenLabs(api_key=workspace.api_key, base_url=server.url, httpx_client=http)


def test_one_item_is_its_audio_file_and_several_are_a_zip(
    server: RunningServer, workspace: Creds, eleven: ElevenLabs, canary: str
) -> None:
    mp3 = speak(server, workspace, f"First {canary}.", "mp3_44100_128")
    pcm = speak(server, workspace, "Second one.", "pcm_16000")

    one = b"".join(eleven.history.download(history_item_ids=[mp3]))
    assert one == stored_audio(server, workspace, mp3)

    both = b"".join(eleven.history.download(history_item_ids=[mp3, pcm]))
    with zipfile.ZipFile(io.BytesIO(both)) as archive:
        assert sorted(archive.namelist()) == sorted([f"{mp3}.mp3", f"{pcm}.pcm"])
        assert archive.read(f"{pcm}.pcm") == stored_audio(server, workspace, pcm)

    wav = b"".join(eleven.history.download(history_item_ids=[pcm], output_format="wav"))
    assert wav[:4] == b"RIFF" and wav[8:12] == b"WAVE"
    assert wav[44:] == stored_audio(server, workspace, pcm)
    mp3_as_wav = b"".join(eleven.history.download(history_item_ids=[mp3], output_format="wav"))
    assert mp3_as_wav[:4] == b"RIFF" and len(mp3_as_wav) > 16000

    # Built in memory: the server's temporary directory stays empty.
    assert list(server.tmp_dir.iterdir()) == []


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"history_item_ids": ["CANARY"]}, 404, "not_found"),
        ({"history_item_ids": []}, 422, "invalid_request"),
        ({"history_item_ids": [""]}, 422, "invalid_request"),
        ({"history_item_ids": ["x"], "output_format": "CANARY"}, 422, "invalid_request"),
    ],
)
def test_errors_are_elevenlabs_shaped_and_leave_no_trace(
    server: RunningServer, zdr_workspace: Creds, canary: str, body: dict, status: int, code: str
) -> None:  # type: ignore[type-arg]
    sent = {
        k: (
            [canary if i == "CANARY" else i for i in v]
            if isinstance(v, list)
            else canary
            if v == "CANARY"
            else v
        )
        for k, v in body.items()
    }
    reply = httpx.post(
        f"{server.url}/v1/history/download",
        headers={"xi-api-key": zdr_workspace.api_key},
        json=sent,
    )
    assert reply.status_code == status
    assert reply.json()["detail"]["status"] == code
    assert canary not in reply.text
    server.wait_for_usage(zdr_workspace.workspace_id, 1, product="history")
    assert server.find_marker(canary) == []


def test_another_workspaces_item_is_not_found(server: RunningServer, workspace: Creds) -> None:
    item = speak(server, workspace, "Mine only.", "mp3_22050_32")
    other = server.create_workspace("other")
    reply = httpx.post(
        f"{server.url}/v1/history/download",
        headers={"xi-api-key": other.api_key},
        json={"history_item_ids": [item]},
    )
    assert reply.status_code == 404
