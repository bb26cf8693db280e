"""Live transcription capacity on a real server whose limit is one live transcription: while one
socket transcribes on the local engine, every other surface's live socket (realtime STT and
voice agents alike) is refused at once in its vendor's shape with close 1013, the first goes on
transcribing, and once it closes a new one is admitted. A new one is also refused while the
local Whisper workers are behind (decodes waiting longer than ``limits.live_backlog_s``)."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.api.agent_server import agent_id
from tests.conftest import ServerFactory
from tests.harness import Creds, RunningServer
from tests.polling import wait_for
from tests.spoken import Clip, encode, join, resample, silence, speak

SENTENCE = "Please bring the blue jacket to the garden party tomorrow."
BUSY = "too_many_concurrent_requests"
TRY_AGAIN_LATER = 1013


@pytest.fixture(scope="module")
def server(start_server: ServerFactory) -> RunningServer:
    """A server of this module's own: one live transcription at a time, and a short backlog."""
    return start_server(
        env={
            "SOTTOVOCE_LIMITS__MAX_LIVE_TRANSCRIPTIONS": "1",
            "SOTTOVOCE_LIMITS__LIVE_BACKLOG_S": "0.5",
        }
    )


@pytest.fixture(scope="module")
def creds(server: RunningServer) -> Creds:
    return server.create_workspace("live")


@pytest.fixture(scope="module")
def clip() -> Clip:
    return speak(SENTENCE)


@pytest.fixture(scope="module")
def speech(clip: Clip) -> bytes:
    # Followed by a pause longer than the commit silence (ElevenLabs' default: 1.5 s).
    pcm = resample(join(silence(0.3, clip.rate), clip, silence(2.0, clip.rate)), 16000)
    return pcm.astype("<i2").tobytes()


def admitted(server: RunningServer) -> float:
    """Live transcriptions running on the server, from ``/metrics``."""
    return metric(server, 'sottovoce_admitted{kind="live_transcription"}')


def metric(server: RunningServer, name: str) -> float:
    for line in httpx.get(f"{server.url}/metrics").text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} is not in /metrics")


def elevenlabs(server: RunningServer, creds: Creds) -> ClientConnection:
    query = httpx.QueryParams(
        {"xi_api_key": creds.api_key, "audio_format": "pcm_16000", "commit_strategy": "vad"}
    )
    return connect(f"{server.ws_url}/v1/speech-to-text/realtime?{query}", open_timeout=30)


def closed_with(ws: ClientConnection) -> tuple[list[dict[str, Any]], int]:
    """What the server sent before it closed the socket, and its close code."""
    seen: list[dict[str, Any]] = []

    def read_all() -> None:
        while True:
            seen.append(json.loads(ws.recv(timeout=30)))

    with pytest.raises(ConnectionClosed) as closed:
        read_all()
    assert closed.value.rcvd is not None, seen
    return seen, closed.value.rcvd.code


def send_speech(ws: ClientConnection, pcm: bytes) -> None:
    step = 16000 * 2 // 10
    for i in range(0, len(pcm), step):
        chunk = base64.b64encode(pcm[i : i + step]).decode()
        ws.send(json.dumps({"message_type": "input_audio_chunk", "audio_base_64": chunk}))


def committed(ws: ClientConnection) -> str:
    while True:
        message = json.loads(ws.recv(timeout=120))
        if message["message_type"] == "committed_transcript" and message["text"]:
            return str(message["text"])
        assert message["message_type"] == "partial_transcript", message


Refusal = Callable[[RunningServer, Creds], tuple[list[dict[str, Any]], int]]


def refused_elevenlabs(server: RunningServer, creds: Creds) -> tuple[list[dict[str, Any]], int]:
    with elevenlabs(server, creds) as ws:
        seen, code = closed_with(ws)
    assert [m["message_type"] for m in seen] == ["resource_exhausted"]
    assert seen[0]["code"] == BUSY
    return seen, code


def refused_deepgram(server: RunningServer, creds: Creds) -> tuple[list[dict[str, Any]], int]:
    url = f"{server.ws_url}/v1/listen?encoding=linear16&sample_rate=16000"
    headers = {"Authorization": f"Token {creds.api_key}"}
    with connect(url, additional_headers=headers, open_timeout=30) as ws:
        seen, code = closed_with(ws)
    assert [(m["type"], m["err_code"]) for m in seen] == [("Error", "TOO_MANY_REQUESTS")]
    return seen, code


def refused_assemblyai(server: RunningServer, creds: Creds) -> tuple[list[dict[str, Any]], int]:
    url = f"{server.ws_url}/v3/ws?sample_rate=16000&encoding=pcm_s16le"
    with connect(url, additional_headers={"Authorization": creds.api_key}) as ws:
        seen, code = closed_with(ws)
    assert [(m["type"], m["code"]) for m in seen] == [("Error", BUSY)]
    return seen, code


def refused_cartesia(server: RunningServer, creds: Creds) -> tuple[list[dict[str, Any]], int]:
    query = httpx.QueryParams({"api_key": creds.api_key, "encoding": "pcm_s16le"})
    with connect(f"{server.ws_url}/stt/websocket?{query}&sample_rate=16000") as ws:
        seen, code = closed_with(ws)
    assert [(m["type"], m["error_code"], m["status_code"]) for m in seen] == [("error", BUSY, 429)]
    return seen, code


def refused_inworld(server: RunningServer, creds: Creds) -> tuple[list[dict[str, Any]], int]:
    headers = {"Authorization": f"Basic {creds.api_key}"}
    url = f"{server.ws_url}/stt/v1/transcribe:streamBidirectional"
    with connect(url, additional_headers=headers, open_timeout=30) as ws:
        config = {"audioEncoding": "LINEAR16", "sampleRateHertz": 16000, "language": "en-US"}
        ws.send(json.dumps({"transcribeConfig": config}))
        seen, code = closed_with(ws)
    resource_exhausted = 8
    errors = [(m["error"]["code"], m["error"]["details"][0]["reason"]) for m in seen]
    assert errors == [(resource_exhausted, BUSY)]
    return seen, code


def refused_openai_realtime(
    server: RunningServer, creds: Creds
) -> tuple[list[dict[str, Any]], int]:
    headers = {"Authorization": f"Bearer {creds.api_key}"}
    url = f"{server.ws_url}/v1/realtime?model=gpt-realtime"
    with connect(url, additional_headers=headers, open_timeout=30) as ws:
        seen, code = closed_with(ws)
    assert [(m["type"], m["error"]["code"]) for m in seen] == [("error", BUSY)]
    return seen, code


@pytest.fixture(scope="module")
def agent(server: RunningServer, creds: Creds) -> str:
    return agent_id(server, creds, llm=None)


def refused_conversation(agent: str) -> Refusal:
    def refused(server: RunningServer, creds: Creds) -> tuple[list[dict[str, Any]], int]:
        query = httpx.QueryParams({"agent_id": agent})
        url = f"{server.ws_url}/v1/convai/conversation?{query}"
        headers = {"xi-api-key": creds.api_key}
        with connect(url, additional_headers=headers, open_timeout=30) as ws:
            ws.send(json.dumps({"type": "conversation_initiation_client_data"}))
            seen, code = closed_with(ws)
            reason = ws.close_reason
        # ElevenLabs' conversation socket says why in its close frame alone.
        assert (seen, reason) == ([], BUSY)
        return seen, code

    return refused


@pytest.fixture
def surfaces(agent: str) -> dict[str, Refusal]:
    return {
        "elevenlabs realtime stt": refused_elevenlabs,
        "deepgram listen": refused_deepgram,
        "assemblyai streaming": refused_assemblyai,
        "cartesia stt": refused_cartesia,
        "inworld stt": refused_inworld,
        "openai realtime": refused_openai_realtime,
        "elevenlabs conversation": refused_conversation(agent),
    }


def test_past_the_limit_every_live_socket_is_refused_and_the_admitted_one_keeps_going(
    server: RunningServer, creds: Creds, speech: bytes, surfaces: dict[str, Refusal]
) -> None:
    wait_for(lambda: admitted(server) == 0, "no live transcription left from before")
    with elevenlabs(server, creds) as first:
        assert json.loads(first.recv(timeout=60))["message_type"] == "session_started"
        assert admitted(server) == 1
        codes = {name: refused(server, creds)[1] for name, refused in surfaces.items()}
        assert codes == dict.fromkeys(surfaces, TRY_AGAIN_LATER)
        # The admitted session still transcribes, in real time.
        send_speech(first, speech)
        heard = re.findall(r"[a-z]+", committed(first).lower())
        assert {"blue", "jacket", "garden"} <= set(heard), heard
    # Its place is given back when it closes: a new one is admitted.
    wait_for(lambda: admitted(server) == 0, "the closed session's place given back")
    with connect(
        f"{server.ws_url}/v1/listen?encoding=linear16&sample_rate=16000",
        additional_headers={"Authorization": f"Token {creds.api_key}"},
    ) as again:
        wait_for(lambda: admitted(server) == 1, "the new session admitted")
        again.send(json.dumps({"type": "CloseStream"}))
        assert json.loads(again.recv(timeout=60))["type"] == "Metadata"


def test_a_new_live_socket_is_refused_while_the_decode_queue_is_behind(
    server: RunningServer, creds: Creds, clip: Clip
) -> None:
    """Three files keep the one Whisper worker busy; the second and third wait for it. No live
    session runs, yet a new one is refused while they wait, and admitted once they are done."""
    wav = encode(join(clip, clip, clip), "wav")
    wait_for(lambda: admitted(server) == 0, "no live transcription left from before")

    def transcribe() -> int:
        reply = httpx.post(
            f"{server.url}/v1/speech-to-text",
            headers={"xi-api-key": creds.api_key},
            data={"model_id": "scribe_v1"},
            files={"file": ("long.wav", wav, "audio/wav")},
            timeout=300,
        )
        return reply.status_code

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(3) as pool:
        files = [pool.submit(transcribe) for _ in range(3)]
        backlog = "sottovoce_local_stt_backlog_seconds"
        wait_for(lambda: metric(server, backlog) > 0.5, "a decode waiting over 0.5 s", timeout=120)
        _, code = refused_elevenlabs(server, creds)
        assert code == TRY_AGAIN_LATER
        assert [f.result() for f in files] == [200, 200, 200]
    assert metric(server, backlog) == 0
    with elevenlabs(server, creds) as ws:
        assert json.loads(ws.recv(timeout=60))["message_type"] == "session_started"
