"""Retention canaries for every TTS endpoint: a unique marker goes in as the text; under zero
retention (workspace ZDR or ``enable_logging=false``) nothing but a usage record may remain, on
success, on bad input and when the client goes away mid-stream. The negative control (ZDR off)
proves the marker can be found: it comes back from history."""

from __future__ import annotations

import json
import socket
from typing import Any

import httpx
import pytest

from tests.api.tts_audio import decode
from tests.harness import Creds, RunningServer

RAW = {"container": "raw", "encoding": "pcm_s16le", "sample_rate": 16000}

# name -> (path, body for a text, auth header name)
ENDPOINTS: dict[str, tuple[str, Any, str]] = {
    "el-convert": ("/v1/text-to-speech/joe?output_format=pcm_16000", "text", "xi"),
    "el-stream": ("/v1/text-to-speech/joe/stream?output_format=mp3_22050_32", "text", "xi"),
    "el-timestamps": ("/v1/text-to-speech/joe/with-timestamps", "text", "xi"),
    "el-stream-timestamps": ("/v1/text-to-speech/joe/stream/with-timestamps", "text", "xi"),
    "openai-speech": ("/v1/audio/speech", "openai", "bearer"),
    "openai-sse": ("/v1/audio/speech", "openai-sse", "bearer"),
    "cartesia-bytes": ("/tts/bytes", "cartesia", "bearer"),
    "cartesia-sse": ("/tts/sse", "cartesia", "bearer"),
}


def body_for(kind: str, text: str) -> dict[str, Any]:
    if kind == "text":
        return {"text": text}
    if kind.startswith("openai"):
        body = {"model": "tts-1", "input": text, "voice": "alloy", "response_format": "pcm"}
        return body | ({"stream_format": "sse"} if kind == "openai-sse" else {})
    return {"model_id": "sonic-2", "transcript": text, "voice": {"id": "joe"}, "output_format": RAW}


def headers_for(auth: str, key: str) -> dict[str, str]:
    return {"xi-api-key": key} if auth == "xi" else {"authorization": f"Bearer {key}"}


def post(server: RunningServer, creds: Creds, name: str, spoken: str, *,
         zdr_query: bool = False, **overrides: Any) -> httpx.Response:  # fmt: skip
    path, kind, auth = ENDPOINTS[name]
    if zdr_query:
        path += ("&" if "?" in path else "?") + "enable_logging=false"
    body = body_for(kind, spoken) | overrides
    return httpx.post(
        server.url + path, json=body, headers=headers_for(auth, creds.api_key), timeout=60
    )


def history_of(server: RunningServer, creds: Creds) -> list[dict[str, Any]]:
    reply = httpx.get(f"{server.url}/v1/history", headers={"xi-api-key": creds.api_key})
    assert reply.status_code == 200
    items: list[dict[str, Any]] = reply.json()["history"]
    return items


@pytest.mark.parametrize("name", ENDPOINTS)
@pytest.mark.parametrize("via", ["workspace", "enable_logging"])
def test_zero_retention_success_keeps_only_usage(
    server: RunningServer, canary: str, name: str, via: str
) -> None:
    creds = server.create_workspace("zdr", zdr=via == "workspace")
    reply = post(server, creds, name, f"Say {canary} now.", zdr_query=via == "enable_logging")
    assert reply.status_code == 200
    assert len(reply.content) > 1000
    [record] = server.wait_for_usage(creds.workspace_id, 1, "tts")
    assert record.outcome == "ok"
    assert record.zero_retention
    assert not record.content_retained
    assert record.model_id == "local/piper"
    assert record.output_unit == "audio_seconds"
    assert record.output_units > 0.5
    assert history_of(server, creds) == []
    assert server.find_marker(canary) == []


@pytest.mark.parametrize(
    ("name", "overrides", "status"),
    [
        ("el-convert", {"text": "x" * 5001}, 422),
        ("el-stream", {"model_id": "CANARY-model"}, 404),
        ("openai-speech", {"response_format": "CANARY-format"}, 422),
        ("openai-sse", {"voice": "CANARY-voice"}, 404),
        ("cartesia-bytes", {"output_format": {"container": "ogg", "sample_rate": 1}}, 422),
        ("cartesia-sse", {"speed": 7.0}, 422),
        ("cartesia-bytes", {"save": True}, 403),
    ],
)
def test_zero_retention_failures_keep_nothing(
    server: RunningServer,
    zdr_workspace: Creds,
    canary: str,
    name: str,
    overrides: dict[str, Any],
    status: int,
) -> None:
    overrides = {
        k: v.replace("CANARY", canary) if isinstance(v, str) else v for k, v in overrides.items()
    }
    if "text" in overrides:
        overrides["text"] = canary + overrides["text"][len(canary) :]
    reply = post(server, zdr_workspace, name, f"Say {canary} now.", **overrides)
    assert reply.status_code == status
    assert canary not in reply.text
    records = server.wait_for_usage(zdr_workspace.workspace_id, 1, "tts")
    assert [r.outcome for r in records] == ["error"]
    assert history_of(server, zdr_workspace) == []
    assert server.find_marker(canary) == []


def test_invalid_json_with_a_marker_keeps_nothing(
    server: RunningServer, zdr_workspace: Creds, canary: str
) -> None:
    reply = httpx.post(
        f"{server.url}/v1/text-to-speech/joe",
        content=f'{{"text": "{canary}'.encode(),
        headers={"xi-api-key": zdr_workspace.api_key, "content-type": "application/json"},
    )
    assert reply.status_code == 400
    assert canary not in reply.text
    assert server.find_marker(canary) == []


def _disconnect_mid_stream(server: RunningServer, path: str, headers: dict[str, str],
                           body: bytes) -> int:  # fmt: skip
    """Send a request by hand, read the first bytes of the reply, then hang up."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        head = [
            f"POST {path} HTTP/1.1",
            "host: 127.0.0.1",
            "content-type: application/json",
            f"content-length: {len(body)}",
            *(f"{k}: {v}" for k, v in headers.items()),
        ]
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        received = sock.recv(4096)
        assert received.startswith(b"HTTP/1.1 200")
        return len(received)


@pytest.mark.parametrize("zdr", [True, False])
def test_client_disconnect_leaves_a_cancelled_usage_record_and_nothing_else(
    server: RunningServer, canary: str, zdr: bool
) -> None:
    creds = server.create_workspace("cut", zdr=zdr)
    text = " ".join(f"Sentence number {i} says {canary} again." for i in range(40))
    _disconnect_mid_stream(
        server,
        "/v1/text-to-speech/joe/stream?output_format=pcm_16000",
        {"xi-api-key": creds.api_key},
        json.dumps({"text": text}).encode(),
    )
    [record] = server.wait_for_usage(creds.workspace_id, 1, "tts")
    assert record.outcome == "cancelled"
    assert not record.content_retained
    # The record is written after the request has ended, and the only save is after the last
    # chunk: from here on, a synthesis still running for the cut-off request can save nothing.
    assert history_of(server, creds) == []
    assert server.find_marker(canary) == []


def test_negative_control_without_zdr_the_marker_is_in_history(
    server: RunningServer, workspace: Creds, canary: str
) -> None:
    for name in ("el-convert", "openai-speech", "cartesia-sse"):
        assert post(server, workspace, name, f"Say {canary} now.").status_code == 200
    items = history_of(server, workspace)
    assert len(items) == 3
    assert all(canary in item["text"] for item in items)
    assert {item["source"] for item in items} == {"TTS"}
    audio = httpx.get(
        f"{server.url}/v1/history/{items[0]['history_item_id']}/audio",
        headers={"xi-api-key": workspace.api_key},
    )
    assert audio.status_code == 200
    records = server.wait_for_usage(workspace.workspace_id, 3, "tts")
    assert all(r.content_retained for r in records)


def test_negative_control_history_audio_is_the_served_audio(
    server: RunningServer, workspace: Creds, canary: str
) -> None:
    reply = post(server, workspace, "el-stream", f"Keep {canary} please.")
    [item] = history_of(server, workspace)
    stored = httpx.get(
        f"{server.url}/v1/history/{item['history_item_id']}/audio",
        headers={"xi-api-key": workspace.api_key},
    )
    assert stored.headers["content-type"] == "audio/mpeg"
    assert stored.content == reply.content
    codec, rate, _ = decode(stored.content)
    assert (codec, rate) == ("mp3float", 22050)


def test_cartesia_save_without_zdr_is_kept(
    server: RunningServer, workspace: Creds, canary: str
) -> None:
    reply = post(server, workspace, "cartesia-bytes", f"Save {canary}.", save=True)
    assert reply.status_code == 200
    assert any(canary in item["text"] for item in history_of(server, workspace))
