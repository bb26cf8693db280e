"""Admission control on a real server with tiny limits: one synthesis at a time on the replica,
two sockets on the replica and one per workspace. Past a limit: 429 with ``Retry-After`` in the
caller's vendor shape, or for a socket the vendor's error and close 1013; never a queue."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.harness import RunningServer

LONG_TEXT = " ".join(["The quick brown fox jumps over the lazy dog near the river bank."] * 30)


@pytest.fixture
def limited(strict_server: RunningServer) -> RunningServer:
    """The server with tiny limits (``tests/api/conftest.py``: ``STRICT_ENV``)."""
    return strict_server


def eventually(ok: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not ok():
        assert time.monotonic() < deadline, "never freed"
        time.sleep(0.1)


def test_a_second_synthesis_is_refused_while_one_runs(limited: RunningServer) -> None:
    holder, other = limited.create_workspace("holder"), limited.create_workspace("other")
    url = f"{limited.url}/v1/text-to-speech/joe/stream?output_format=pcm_44100"
    with (
        httpx.Client(timeout=60) as client,
        client.stream(
            "POST", url, headers={"xi-api-key": holder.api_key}, json={"text": LONG_TEXT}
        ) as held,
    ):
        assert held.status_code == 200
        chunks = held.iter_bytes()
        next(chunks)  # running, and not read further: it stays running
        refused = httpx.post(
            f"{limited.url}/v1/text-to-speech/joe",
            headers={"xi-api-key": other.api_key},
            json={"text": "Hello."},
        )
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "1"
        assert refused.json()["detail"]["status"] == "too_many_concurrent_requests"
        # The OpenAI surface refuses in OpenAI's shape.
        openai = httpx.post(
            f"{limited.url}/v1/audio/speech",
            headers={"authorization": f"Bearer {other.api_key}"},
            json={"model": "tts-1", "voice": "alloy", "input": "Hello."},
        )
        assert openai.status_code == 429
        assert openai.json()["error"]["code"] == "too_many_concurrent_requests"
        chunks.close()
    # The held stream was abandoned: its place is free again.

    def served() -> bool:
        reply = httpx.post(
            f"{limited.url}/v1/text-to-speech/joe",
            headers={"xi-api-key": other.api_key},
            json={"text": "Hello."},
            timeout=60,
        )
        return reply.status_code == 200

    eventually(served)


def realtime(server: RunningServer, key: str) -> ClientConnection:
    url = f"{server.ws_url}/v1/speech-to-text/realtime?model_id=scribe_v2_realtime"
    return connect(url, additional_headers={"xi-api-key": key}, open_timeout=30)


def refused(ws: ClientConnection) -> tuple[dict[str, str], int]:
    message = json.loads(ws.recv(timeout=10))
    with pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=10)
    assert closed.value.rcvd is not None
    return message, closed.value.rcvd.code


def test_sockets_past_the_workspace_or_replica_limit_are_closed(limited: RunningServer) -> None:
    a, b, c = (limited.create_workspace(n) for n in ("a", "b", "c"))
    with realtime(limited, a.api_key) as first:
        assert json.loads(first.recv(timeout=30))["message_type"] == "session_started"
        # The workspace's one socket is open: its second is refused, others' are not.
        with realtime(limited, a.api_key) as second:
            message, code = refused(second)
        assert message["message_type"] == "resource_exhausted"
        assert message["code"] == "too_many_concurrent_requests"
        assert code == 1013
        with realtime(limited, b.api_key) as other:
            assert json.loads(other.recv(timeout=30))["message_type"] == "session_started"
            # Two sockets on the replica: a third workspace is refused too.
            with realtime(limited, c.api_key) as third:
                assert refused(third)[1] == 1013
    # Closed sockets give their places back.

    def opens() -> bool:
        with realtime(limited, c.api_key) as ws:
            started: bool = json.loads(ws.recv(timeout=30))["message_type"] == "session_started"
            return started

    eventually(opens)
