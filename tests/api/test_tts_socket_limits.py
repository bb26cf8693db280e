"""The TTS sockets' configurable limits, on the server with small limits (idle after 1 s, at
most 2 contexts): each closes the socket with the vendor's error and a clean code, and under ZDR the
text that was waiting leaves nothing but usage records."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.api.tts_sockets import sockets_of, utterances_of, wait_sockets
from tests.harness import Creds, RunningServer

PCM = {"container": "raw", "encoding": "pcm_s16le", "sample_rate": 16000}


@pytest.fixture(scope="module")
def server(limits_server: RunningServer) -> RunningServer:
    return limits_server


def cartesia(server: RunningServer, creds: Creds) -> ClientConnection:
    headers = {"X-API-Key": creds.api_key, "Cartesia-Version": "2024-11-13"}
    return connect(f"{server.ws_url}/tts/websocket", additional_headers=headers, open_timeout=30)


def deepgram(server: RunningServer, creds: Creds) -> ClientConnection:
    headers = {"Authorization": f"Token {creds.api_key}"}
    return connect(f"{server.ws_url}/v1/speak", additional_headers=headers, open_timeout=30)


def generation(context_id: str, text: str) -> str:
    return json.dumps(
        {
            "context_id": context_id,
            "model_id": "sonic-2",
            "voice": {"mode": "id", "id": "joe"},
            "output_format": PCM,
            "transcript": text,
            "continue": True,
        }
    )


def until_closed(ws: ClientConnection) -> tuple[list[Any], int]:
    seen: list[Any] = []
    with contextlib.suppress(ConnectionClosed):
        while True:
            message = ws.recv(timeout=60)
            seen.append(message if isinstance(message, bytes) else json.loads(message))
    received = ws.protocol.close_rcvd
    assert received is not None
    return [m for m in seen if not isinstance(m, bytes)], received.code


@pytest.mark.parametrize("vendor", ["cartesia", "deepgram"])
def test_idle_sockets_are_closed_and_their_waiting_text_leaves_nothing(
    server: RunningServer, zdr_workspace: Creds, canary: str, vendor: str
) -> None:
    if vendor == "cartesia":
        with cartesia(server, zdr_workspace) as ws:
            ws.send(generation("a", f"The code is {canary} and"))  # no clause end: it waits
            messages, code = until_closed(ws)
        assert messages[-1]["error_code"] == "inactivity_timeout"
    else:
        with deepgram(server, zdr_workspace) as ws:
            ws.send(json.dumps({"type": "Speak", "text": f"The code is {canary} and"}))
            messages, code = until_closed(ws)
        assert messages[-1]["err_code"] == "NET-0001"
    assert code == 1008
    records = wait_sockets(server, zdr_workspace, 1)
    assert sockets_of(records)[0]["error_code"] == "inactivity_timeout"
    assert [r["outcome"] for r in utterances_of(records)] == ["cancelled"]
    server.store.checkpoint()
    assert server.find_marker(canary) == []


def test_a_context_over_the_limit_is_refused_and_the_socket_goes_on(
    server: RunningServer, zdr_workspace: Creds, canary: str
) -> None:
    with cartesia(server, zdr_workspace) as ws:
        for key in ("a", "b", "c"):
            ws.send(generation(key, f"Hello {canary} and"))
        error = json.loads(ws.recv(timeout=30))
        assert (error["context_id"], error["error_code"]) == ("c", "too_many_contexts")
        _messages, code = until_closed(ws)  # then the socket idles out
    assert code == 1008
    records = wait_sockets(server, zdr_workspace, 1)
    assert sorted(r["outcome"] for r in utterances_of(records)) == [
        "cancelled",
        "cancelled",
        "error",
    ]
    server.store.checkpoint()
    assert server.find_marker(canary) == []


@pytest.mark.parametrize("vendor", ["cartesia", "deepgram"])
def test_an_oversized_message_closes_with_1009(
    server: RunningServer, zdr_workspace: Creds, canary: str, vendor: str
) -> None:
    text = (canary + " ") * 200
    if vendor == "cartesia":
        with cartesia(server, zdr_workspace) as ws:
            ws.send(generation("a", text))
            messages, code = until_closed(ws)
        assert messages[-1]["error_code"] == "message_too_large"
    else:
        with deepgram(server, zdr_workspace) as ws:
            ws.send(json.dumps({"type": "Speak", "text": text}))
            messages, code = until_closed(ws)
        assert messages[-1]["err_code"] == "PAYLOAD_TOO_LARGE"
    assert code == 1009
    wait_sockets(server, zdr_workspace, 1)
    server.store.checkpoint()
    assert server.find_marker(canary) == []
