"""SIGTERM drains the server: ready no more, new work refused in the vendor's shape, a stream in
flight finished, a socket still open after the grace period told "going away" (1001), every
usage record written, and nothing half-written in history. One server of its own (it exits)."""

from __future__ import annotations

import json
import os
import signal
import time

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from sottovoce.store import history
from sottovoce.store.history import HistoryFilter
from tests.conftest import ServerFactory

GRACE_S = 4.0
TEXT = " ".join(
    ["The nurse will call you back after lunch to confirm the appointment for next week."] * 4
)


@pytest.mark.timeout(120)
def test_sigterm_drains_then_exits(start_server: ServerFactory) -> None:
    server = start_server(env={"SOTTOVOCE_SERVER__DRAIN_GRACE_S": str(GRACE_S)})
    creds = server.create_workspace("drained")
    headers = {"xi-api-key": creds.api_key}
    ready = httpx.get(f"{server.url}/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"

    socket_url = f"{server.ws_url}/v1/text-to-speech/joe/stream-input?output_format=pcm_16000"
    with connect(socket_url, additional_headers=headers, open_timeout=30) as idle:
        idle.send(json.dumps({"text": " "}))  # opened, then silent: it outlives the grace period
        with httpx.Client(timeout=60) as client:
            stream_url = f"{server.url}/v1/text-to-speech/joe/stream?output_format=pcm_16000"
            with client.stream("POST", stream_url, headers=headers, json={"text": TEXT}) as stream:
                chunks = stream.iter_bytes()
                received = len(next(chunks))

                os.kill(server.proc.pid, signal.SIGTERM)
                signalled, signalled_ms = time.monotonic(), int(time.time() * 1000)

                # Not ready, still alive; new work refused in the route's vendor shape.
                assert httpx.get(f"{server.url}/readyz").json()["status"] == "draining"
                assert httpx.get(f"{server.url}/readyz").status_code == 503
                assert httpx.get(f"{server.url}/healthz").status_code == 200
                refused = httpx.post(
                    f"{server.url}/v1/text-to-speech/joe", headers=headers, json={"text": "hi"}
                )
                assert refused.status_code == 503
                assert refused.headers["retry-after"] == "1"
                assert refused.json()["detail"]["status"] == "server_draining"
                with (
                    connect(socket_url, additional_headers=headers, open_timeout=10) as late,
                    pytest.raises(ConnectionClosed) as late_close,
                ):
                    late.recv(timeout=5)
                assert late_close.value.rcvd is not None
                assert late_close.value.rcvd.code == 1001

                # The stream that was in flight is finished, whole (within the grace period:
                # checked on the server's own record below, as this client's pace depends on
                # the machine's load).
                received += sum(len(chunk) for chunk in chunks)
        assert received > 16000 * 2 * 5  # more than 5 s of 16 kHz speech

        # The silent socket outlived the grace period: told, then closed as going away.
        message = json.loads(idle.recv(timeout=GRACE_S + 10))
        with pytest.raises(ConnectionClosed) as closed:
            idle.recv(timeout=5)
        closed_after = time.monotonic() - signalled
        assert (message["error"], message["code"]) == ("server_draining", 1001)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001
        assert GRACE_S - 0.5 < closed_after < GRACE_S + 3

    # Then the server exits by itself.
    server.proc.wait(timeout=15)
    records = server.usage_records(creds.workspace_id, "tts")
    by_status = sorted((r.status_code, r.outcome, r.error_code) for r in records)
    # The socket and its open utterance, both cut short; the finished stream (what the drain
    # refused did no work, and is not metered).
    assert by_status == [
        (101, "cancelled", "server_draining"),
        (200, "cancelled", None),
        (200, "ok", None),
    ]
    [stream_record] = [r for r in records if r.outcome == "ok"]
    # It was still in flight when the signal came, and was let finish within the grace period.
    ended_ms = stream_record.started_at_ms + stream_record.duration_ms
    assert signalled_ms < ended_ms < signalled_ms + GRACE_S * 1000
    with server.store.session() as session:
        items = history.list_page(session, creds.workspace_id, HistoryFilter()).items
    # The finished stream's item, whole; the socket cut short left none.
    assert len(items) == 1
    assert items[0].text is not None and items[0].text.reveal() == TEXT
