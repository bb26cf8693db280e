"""The realtime WebSocket, through the ElevenLabs SDK and a raw client, with canaries."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import socket
import time
import wave

import httpx
import pytest
from elevenlabs import AsyncElevenLabs
from elevenlabs.realtime import AudioFormat, CommitStrategy, RealtimeEvents
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.harness import Creds, RunningServer
from tests.spoken import Clip, encode, join, random_phrase, resample, silence, speak, words_of

FIRST = "Please bring the blue jacket to the garden party tomorrow."
SECOND = "The nurse will call you back after lunch to confirm the appointment."


def pcm16k(*clips: Clip) -> bytes:
    return resample(join(*clips), 16000).astype("<i2").tobytes()


@pytest.fixture(scope="module")
def two_utterances() -> bytes:
    a, b = speak(FIRST), speak(SECOND)
    gap = silence(1.0, a.rate)
    return pcm16k(silence(0.3, a.rate), a, gap, b, gap)


def chunks(pcm: bytes, seconds: float = 0.1) -> list[bytes]:
    step = int(16000 * 2 * seconds)
    return [pcm[i : i + step] for i in range(0, len(pcm), step)]


def audio_message(pcm: bytes, commit: bool = False) -> str:
    return json.dumps(
        {
            "message_type": "input_audio_chunk",
            "audio_base_64": base64.b64encode(pcm).decode(),
            "commit": commit,
            "sample_rate": 16000,
        }
    )


def open_socket(server: RunningServer, key: str | None, **query: str) -> ClientConnection:
    params = {"model_id": "scribe_v2_realtime", "audio_format": "pcm_16000", **query}
    if key:
        params["xi_api_key"] = key
    url = f"{server.ws_url}/v1/speech-to-text/realtime?{httpx.QueryParams(params)}"
    return connect(url, open_timeout=30)


def receive_until(ws: ClientConnection, kind: str, timeout: float = 60) -> list[dict]:
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = json.loads(ws.recv(timeout=deadline - time.monotonic()))
        seen.append(message)
        if message["message_type"] == kind:
            return seen
    raise AssertionError(f"no {kind} in {seen}")


def test_sdk_vad_commits_each_utterance(
    server: RunningServer, workspace: Creds, two_utterances: bytes
) -> None:
    async def run() -> tuple[list[str], list[str]]:
        client = AsyncElevenLabs(api_key=workspace.api_key, base_url=server.url)
        connection = await client.speech_to_text.realtime.connect(
            {
                "model_id": "scribe_v2_realtime",
                "audio_format": AudioFormat.PCM_16000,
                "sample_rate": 16000,
                "commit_strategy": CommitStrategy.VAD,
                "vad_silence_threshold_secs": 0.6,
                "language_code": "en",
            }
        )
        partials: list[str] = []
        committed: list[str] = []
        done = asyncio.Event()

        def on_committed(data: dict) -> None:
            committed.append(data["text"])
            if len(committed) == 2:
                done.set()

        connection.on(RealtimeEvents.PARTIAL_TRANSCRIPT, lambda d: partials.append(d["text"]))
        connection.on(RealtimeEvents.COMMITTED_TRANSCRIPT, on_committed)
        for piece in chunks(two_utterances):
            await connection.send({"audio_base_64": base64.b64encode(piece).decode()})
            await asyncio.sleep(0.02)
        await asyncio.wait_for(done.wait(), timeout=90)
        await connection.close()
        return partials, committed

    _partials, committed = asyncio.run(run())
    assert [words_of(t) for t in committed] == [words_of(FIRST), words_of(SECOND)]
    # Partials are best effort here (each is a full Whisper pass on a shared 2-core machine);
    # tests/engines/test_whisper.py checks that they come at real-time pace.


def test_manual_commit_with_timestamps_and_malformed_messages(
    server: RunningServer, workspace: Creds
) -> None:
    pcm = pcm16k(speak(FIRST))
    with open_socket(server, workspace.api_key, include_timestamps="true") as ws:
        started = json.loads(ws.recv(timeout=30))
        assert started["message_type"] == "session_started"
        assert started["config"]["commit_strategy"] == "manual"
        ws.send("{this is not json")
        assert json.loads(ws.recv(timeout=30))["message_type"] == "input_error"
        ws.send(json.dumps({"message_type": "input_audio_chunk", "audio_base_64": "@@@"}))
        assert json.loads(ws.recv(timeout=30))["message_type"] == "input_error"
        ws.send(b"\x00\x01")
        assert json.loads(ws.recv(timeout=30))["message_type"] == "input_error"
        # The session survives bad messages.
        for piece in chunks(pcm, 0.5):
            ws.send(audio_message(piece))
        ws.send(audio_message(b"", commit=True))
        seen = receive_until(ws, "committed_transcript_with_timestamps")
    committed = [m for m in seen if m["message_type"] == "committed_transcript"]
    assert [words_of(m["text"]) for m in committed] == [words_of(FIRST)]
    timed = seen[-1]
    assert words_of(" ".join(w["text"] for w in timed["words"])) == words_of(FIRST)
    assert timed["words"][0]["start"] < timed["words"][-1]["end"]


def test_ulaw_at_8k(server: RunningServer, workspace: Creds) -> None:
    wav = encode(speak(SECOND), "wav-mulaw-8k")  # FFmpeg's G.711 encoder
    ulaw = wav[wav.index(b"data") + 8 :]
    with open_socket(server, workspace.api_key, audio_format="ulaw_8000") as ws:
        json.loads(ws.recv(timeout=30))
        ws.send(json.dumps({"audio_base_64": base64.b64encode(ulaw).decode(), "commit": True}))
        seen = receive_until(ws, "committed_transcript")
    assert words_of(seen[-1]["text"]) == words_of(SECOND)


@pytest.mark.parametrize(
    ("query", "kind"),
    [({}, "auth_error"), ({"audio_format": "mp3_44100"}, "input_error")],
    ids=["no-key", "bad-format"],
)
def test_refused_sessions_say_why_and_close(
    server: RunningServer, workspace: Creds, query: dict, kind: str
) -> None:
    key = None if kind == "auth_error" else workspace.api_key
    with open_socket(server, key, **query) as ws:
        if key is None:  # the server waits for a key in the first message: this one has none
            ws.send(json.dumps({"message_type": "input_audio_chunk", "audio_base_64": ""}))
        assert json.loads(ws.recv(timeout=30))["message_type"] == kind
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=30)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1008  # policy violation


def test_the_key_may_come_in_the_first_message(server: RunningServer, workspace: Creds) -> None:
    first = json.loads(audio_message(pcm16k(speak(SECOND)), commit=True))
    first["xi_api_key"] = workspace.api_key
    with open_socket(server, None) as ws:
        ws.send(json.dumps(first))  # the key, and audio: both are used
        seen = receive_until(ws, "committed_transcript")
    assert seen[0]["message_type"] == "session_started"
    assert words_of(seen[-1]["text"]) == words_of(SECOND)


def test_a_wrong_key_in_the_first_message_is_refused(server: RunningServer, canary: str) -> None:
    with open_socket(server, None) as ws:
        ws.send(json.dumps({"xi_api_key": canary}))
        assert json.loads(ws.recv(timeout=30))["message_type"] == "auth_error"
    server.store.checkpoint()
    assert server.find_marker(canary) == []


# Retention: the canaries ---------------------------------------------------------------------


def session(server: RunningServer, key: str, canary: str, ending: str) -> str:
    """One session ending in ``ending``; returns the committed text (the spoken marker).

    The caller waits for the session's usage record: it is written once the server has wound the
    session down, after anything the session keeps has been kept."""
    # Words drawn at random: the transcript is this test's own spoken marker.
    pcm = pcm16k(speak(", ".join(random_phrase(5)).capitalize() + "."))
    with open_socket(server, key) as ws:
        json.loads(ws.recv(timeout=30))
        # A malformed message carrying the canary: the error must not echo it, nothing keeps it.
        ws.send(json.dumps({"message_type": canary, "audio_base_64": canary}))
        error = json.loads(ws.recv(timeout=30))
        assert canary not in json.dumps(error)
        ws.send(json.dumps({"audio_base_64": base64.b64encode(pcm).decode(), "commit": True}))
        text = str(receive_until(ws, "committed_transcript")[-1]["text"])
        if ending == "abrupt":
            # Audio in flight, then the TCP connection just goes away (no close frame).
            ws.send(audio_message(pcm[: 16000 * 2]))
            ws.socket.shutdown(socket.SHUT_RDWR)
            ws.socket.close()
    return text


def keep_input_audio(server: RunningServer, creds: Creds) -> None:
    r = httpx.patch(
        f"{server.url}/v1/workspace",
        headers={"xi-api-key": creds.api_key},
        json={"keep_input_audio": True},
    )
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("ending", ["close", "abrupt"])
def test_zdr_session_leaves_only_usage(
    server: RunningServer, zdr_workspace: Creds, canary: str, ending: str
) -> None:
    # Keeping input audio is asked for too: ZDR overrides it.
    keep_input_audio(server, zdr_workspace)
    text = session(server, zdr_workspace.api_key, canary, ending)
    assert len(words_of(text)) >= 4
    [record] = server.wait_for_usage(zdr_workspace.workspace_id, 1, "stt")
    server.store.checkpoint()
    assert server.find_marker(canary) == []
    assert server.find_marker(text) == []
    # The same record through the API, as the workspace sees it.
    records = httpx.get(
        f"{server.url}/v1/usage", headers={"xi-api-key": zdr_workspace.api_key}
    ).json()["records"]
    stt = [r for r in records if r["product"] == "stt"]
    assert [r["request_id"] for r in stt] == [record.request_id]
    assert stt[-1]["zero_retention"] is True
    assert stt[-1]["input_unit"] == "audio_seconds" and stt[-1]["input_units"] > 1
    assert stt[-1]["model_id"] == "local/whisper-base"


def test_without_zdr_the_transcript_is_kept(
    server: RunningServer, workspace: Creds, canary: str
) -> None:
    text = session(server, workspace.api_key, canary, "close")
    server.wait_for_usage(workspace.workspace_id, 1, "stt")
    server.store.checkpoint()
    # The negative control: the search finds the committed transcript in history.
    assert server.find_marker(text)
    assert server.find_marker(canary) == []


def test_without_zdr_a_workspace_that_keeps_audio_gets_the_session_recording(
    server: RunningServer, workspace: Creds, two_utterances: bytes
) -> None:
    keep_input_audio(server, workspace)
    with open_socket(server, workspace.api_key) as ws:
        json.loads(ws.recv(timeout=30))
        pieces = chunks(two_utterances)
        for piece in pieces[:-1]:
            ws.send(audio_message(piece))
        ws.send(audio_message(pieces[-1], commit=True))
        receive_until(ws, "committed_transcript")
    server.wait_for_usage(workspace.workspace_id, 1, "stt")  # the session has wound down
    h = {"xi-api-key": workspace.api_key}
    items = httpx.get(f"{server.url}/v1/history", headers=h).json()["history"]
    assert items, "the session left no history item"
    kept = httpx.get(f"{server.url}/v1/history/{items[0]['history_item_id']}/audio", headers=h)
    assert kept.status_code == 200
    assert kept.headers["content-type"].startswith("audio/wav")
    with wave.open(io.BytesIO(kept.content)) as recording:
        assert recording.getframerate() == 16000
        assert recording.getnchannels() == 1
        seconds = recording.getnframes() / 16000
    # Everything streamed, to the sample: 16 kHz in, 16 kHz kept.
    assert seconds == pytest.approx(len(two_utterances) / 32000, abs=0.01)
