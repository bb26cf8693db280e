"""Deepgram transcription through the official ``deepgram-sdk``: ``listen.v1.media`` (a file) and
``listen.v1.connect()`` (live), known speech in, its words out; Deepgram's error shape; and what
a zero-retention session leaves (nothing)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from deepgram import DeepgramClient
from deepgram.core.api_error import ApiError
from deepgram.environment import DeepgramClientEnvironment
from websockets.sync.client import connect

from tests.harness import Creds, RunningServer
from tests.spoken import join, pcm_wav, resample, silence, speak, word_edits, words_of

FOX = "The quick brown fox jumps over the lazy dog."
pytestmark = pytest.mark.filterwarnings(r"ignore:websockets\..* is deprecated:DeprecationWarning")


def pcm16k(text: str, pause: float = 0.0) -> bytes:
    clip = speak(text)
    if pause:
        clip = join(clip, silence(pause, clip.rate))
    return resample(clip, 16000).astype("<i2").tobytes()


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=120) as client:
        yield client


def sdk(server: RunningServer, creds: Creds, http: httpx.Client) -> DeepgramClient:
    environment = DeepgramClientEnvironment(
        base=server.url, production=server.ws_url, agent=server.ws_url, agent_rest=server.url
    )
    return DeepgramClient(
        api_key=creds.api_key, environment=environment, max_retries=0, httpx_client=http
    )


def test_a_file_is_transcribed(server: RunningServer, http: httpx.Client, workspace: Creds) -> None:
    reply = sdk(server, workspace, http).listen.v1.media.transcribe_file(
        request=pcm_wav(pcm16k(FOX)), model="nova-3", utterances=True, punctuate=True
    )
    assert reply.results is not None and reply.metadata is not None
    alternative = reply.results.channels[0].alternatives[0]  # type: ignore[index]
    assert word_edits(words_of(FOX), words_of(alternative.transcript or "")) <= 1
    first = alternative.words[0]  # type: ignore[index]
    assert (first.word, first.punctuated_word) == ("the", "The")
    assert reply.metadata.request_id and reply.results.utterances
    # Raw PCM works too, and every reply says who saw the audio.
    raw = http.post(
        f"{server.url}/v1/listen",
        params={"encoding": "linear16", "sample_rate": "16000"},
        headers={"Authorization": f"Token {workspace.api_key}"},
        content=pcm16k(FOX),
    )
    assert raw.status_code == 200
    assert raw.headers["x-sottovoce-retention"] == "none; provider=local; mode=sync"


def test_live_audio_gets_interim_final_and_utterance_end_results(
    server: RunningServer, http: httpx.Client, workspace: Creds
) -> None:
    audio = pcm16k(FOX, pause=1.0)
    messages: list[Any] = []
    with sdk(server, workspace, http).listen.v1.connect(
        model="nova-3",
        encoding="linear16",
        sample_rate="16000",
        interim_results="true",
        utterance_end_ms="1000",
        vad_events="true",
        endpointing="300",
    ) as socket:
        reader = threading.Thread(target=lambda: messages.extend(socket))
        reader.start()
        for start in range(0, len(audio), 3200):
            socket.send_media(audio[start : start + 3200])
        socket.send_keep_alive()
        socket.send_finalize()
        socket.send_close_stream()
        reader.join(120)
    kinds = [m.type for m in messages]
    assert kinds[0] == "SpeechStarted" and kinds[-1] == "Metadata"
    assert "UtteranceEnd" in kinds
    finals = [m for m in messages if m.type == "Results" and m.is_final]
    heard = " ".join(m.channel.alternatives[0].transcript for m in finals)
    assert word_edits(words_of(FOX), words_of(heard)) <= 1, heard
    assert any(m.from_finalize for m in finals), "Finalize is answered"


@pytest.mark.parametrize(
    ("params", "body", "status", "err_code", "code"),
    [
        ({"model": "nobody/nova"}, b"x", 404, "MODEL_NOT_FOUND", "model_not_found"),
        ({"encoding": "opus-raw"}, b"x", 422, "INVALID_QUERY_PARAMETER", "invalid_request"),
        ({}, b"\0not audio at all" * 20, 422, "Bad Request", "invalid_audio"),
        (
            {"callback": "https://example.com"},
            b"x",
            422,
            "INVALID_QUERY_PARAMETER",
            "invalid_request",
        ),
    ],
    ids=["unknown-model", "bad-encoding", "corrupt-audio", "callback"],
)
def test_errors_in_deepgrams_shape(
    server: RunningServer,
    http: httpx.Client,
    workspace: Creds,
    params: dict[str, str],
    body: bytes,
    status: int,
    err_code: str,
    code: str,
) -> None:
    with pytest.raises(ApiError) as failed:
        sdk(server, workspace, http).listen.v1.media.transcribe_file(request=body, **params)
    assert failed.value.status_code == status
    reply: Any = failed.value.body
    assert (reply["err_code"], reply["error"]["code"]) == (err_code, code)
    # A URL to fetch is refused: this server fetches nothing.
    url = http.post(
        f"{server.url}/v1/listen",
        headers={"Authorization": f"Token {workspace.api_key}"},
        json={"url": "https://example.com/a.wav"},
    )
    assert (url.status_code, url.json()["error"]["fields"]) == (422, ["url"])


def test_socket_errors_are_a_message_then_a_close(server: RunningServer, workspace: Creds) -> None:
    headers = {"Authorization": f"Token {workspace.api_key}"}
    url = f"{server.ws_url}/v1/listen?encoding=linear16&sample_rate=16000"
    with connect(url, additional_headers=headers) as ws:
        ws.send(json.dumps({"type": "Shout"}))
        error = json.loads(ws.recv(timeout=30))
        assert (error["type"], error["err_code"]) == ("Error", "INVALID_QUERY_PARAMETER")
        ws.recv_events_thread.join(30)
        assert ws.protocol.close_rcvd is not None and ws.protocol.close_rcvd.code == 1008
    with connect(f"{server.ws_url}/v1/listen?encoding=linear16", additional_headers=headers) as ws:
        error = json.loads(ws.recv(timeout=30))
        assert error["err_code"] == "INVALID_QUERY_PARAMETER"  # raw audio needs its rate


def test_zero_retention_leaves_only_usage_and_otherwise_history_keeps_the_words(
    server: RunningServer, http: httpx.Client, zdr_workspace: Creds, workspace: Creds
) -> None:
    audio = pcm16k(FOX, pause=0.5)
    for creds in (zdr_workspace, workspace):
        headers = {"Authorization": f"Token {creds.api_key}"}
        params = {"encoding": "linear16", "sample_rate": "16000"}
        assert http.post(f"{server.url}/v1/listen", params=params, headers=headers, content=audio)
        url = f"{server.ws_url}/v1/listen?encoding=linear16&sample_rate=16000"
        with connect(url, additional_headers=headers) as ws:
            ws.send(audio)
            ws.send(json.dumps({"type": "CloseStream"}))
            while json.loads(ws.recv(timeout=120))["type"] != "Metadata":
                pass
        server.wait_for_usage(creds.workspace_id, 2, "stt")
        kept = http.get(f"{server.url}/v1/history", headers=headers).json()["history"]
        expected = 0 if creds is zdr_workspace else 2
        assert len([item for item in kept if item["source"] == "STT"]) == expected
        for item in kept:
            assert word_edits(words_of(FOX), words_of(item["text"])) <= 1
