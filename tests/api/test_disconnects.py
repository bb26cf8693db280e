"""Clients that hang up half-way (issue 16's fault suite), on a real server of this module's own.

Many at once: TTS streams cut after their first bytes (half with a FIN, half with an RST),
uploads cut mid-body, uploads whose client left while they were being transcribed, realtime
sockets dropped without a close frame. Each leaves its usage record (the cut ones
``cancelled``), the log holds no traceback, no error line and a few lines per drop at most,
and the server goes on answering. How memory behaves under repeated hang-ups is measured by
``bench/memory.py`` (its "hang-ups" rounds).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.conftest import ServerFactory
from tests.drops import cut_realtime, cut_tts_stream, cut_upload
from tests.harness import Creds, RunningServer
from tests.polling import wait_for
from tests.spoken import pcm_wav

STREAMS, UPLOADS, SOCKETS = 12, 4, 4
DROPS = STREAMS + 2 * UPLOADS + SOCKETS
LINES_PER_DROP = 3
"""At INFO: the request's access line, a TTS stream's first-chunk line, a socket's two
connection lines from uvicorn; an error storm (a traceback, a line per chunk) is far more."""
LONG_TEXT = " ".join(["Please hold while I transfer your call to the billing department."] * 12)


@pytest.fixture(scope="module")
def quiet_server(start_server: ServerFactory) -> RunningServer:
    """Logging at INFO, as in production: the lines a drop costs are the lines it would cost."""
    return start_server(env={"SOTTOVOCE_LOG_LEVEL": "INFO"})


def spoken(server: RunningServer, creds: Creds) -> bytes:
    reply = httpx.post(
        f"{server.url}/v1/text-to-speech/joe?output_format=pcm_16000",
        json={"text": "Please confirm the appointment for Tuesday morning at nine."},
        headers={"xi-api-key": creds.api_key},
        timeout=120,
    )
    assert reply.status_code == 200
    return reply.content


def test_clients_that_hang_up_leave_usage_records_and_no_error_storm(
    quiet_server: RunningServer,
) -> None:
    server = quiet_server
    creds = server.create_workspace("hang-ups", zdr=True)
    pcm = spoken(server, creds)
    wav = pcm_wav(pcm)
    key, port = creds.api_key, server.port
    lines_before = len(server.logs().splitlines())

    jobs: list[tuple[str, Callable[[], object]]] = [
        ("tts", lambda i=i: cut_tts_stream(port, key, LONG_TEXT, reset=i % 2 == 1))
        for i in range(STREAMS)
    ]
    for i in range(UPLOADS):
        jobs.append(("body", lambda i=i: cut_upload(port, key, wav, reset=i % 2 == 1)))
        jobs.append(("stt", lambda i=i: cut_upload(port, key, wav, sent=1, reset=i % 2 == 1)))
    for i in range(SOCKETS):
        jobs.append(("socket", lambda i=i: cut_realtime(port, key, pcm, reset=i % 2 == 1)))
    with ThreadPoolExecutor(max_workers=8) as pool:
        began = [(kind, pool.submit(job)) for kind, job in jobs]
        answers = [(kind, future.result(timeout=120)) for kind, future in began]
    for kind, answer in answers:
        if kind == "tts":
            assert isinstance(answer, bytes) and answer.startswith(b"HTTP/1.1 200"), answer
        elif kind == "socket":
            assert answer == "session_started"
        else:  # nobody reads an answer before hanging up
            assert answer == b"", answer

    # The warm-up's record, then one for every drop: each is written once its request is over.
    records = wait_for(
        lambda: (
            (found := server.usage_records(creds.workspace_id)) and len(found) > DROPS and found
        ),
        f"{DROPS + 1} usage records",
        timeout=120,
    )[1:]
    tts = [r for r in records if r.product == "tts"]
    assert [(r.status_code, r.outcome) for r in tts] == [(200, "cancelled")] * STREAMS
    sockets = [r for r in records if r.status_code == 101]
    assert [(r.product, r.outcome) for r in sockets] == [("stt", "cancelled")] * SOCKETS
    uploads = [r for r in records if r.product == "stt" and r.status_code != 101]
    # Cut mid-body: nothing failed on our side and nothing was answered (499, no error code).
    cut = [(r.outcome, r.error_code) for r in uploads if r.status_code == 499]
    assert cut == [("cancelled", None)] * UPLOADS
    # Whole bodies: transcribed, the answer written into a closed connection.
    assert sorted(r.status_code for r in uploads if r.status_code != 499) == [200] * UPLOADS

    # The server goes on answering, content requests included.
    assert httpx.get(f"{server.url}/healthz").status_code == 200
    assert len(spoken(server, creds)) > 16000

    lines = server.logs().splitlines()[lines_before:]
    assert not [line for line in lines if "Traceback" in line]
    levels = [json.loads(line).get("level") for line in lines if line.startswith("{")]
    assert "error" not in levels and "critical" not in levels
    assert len(lines) <= LINES_PER_DROP * DROPS + 5, len(lines)
