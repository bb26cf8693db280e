"""Deepgram text-to-speech through the official ``deepgram-sdk`` (REST ``speak.v1.audio`` and the
``speak.v1.connect()`` socket): speech that transcribes back, Flush/Flushed, Clear/Cleared,
Close, Deepgram's error shape, and the canaries."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from deepgram import DeepgramClient
from deepgram.core.api_error import ApiError
from deepgram.environment import DeepgramClientEnvironment
from deepgram.speak.v1.types import SpeakV1Text
from websockets.sync.client import connect

from sottovoce.audit.sockets import DEEPGRAM
from tests.api.tts_audio import assert_speech, decode, pcm16
from tests.api.tts_sockets import (
    assert_only_whole_utterances_kept,
    assert_paths_leave_no_trace,
    socket_paths,
    transcribe,
    utterances_of,
    wait_sockets,
)
from tests.harness import Creds, RunningServer
from tests.spoken import pcm_wav, word_edits, words_of

FOX = "The quick brown fox jumps over the lazy dog."
GOODBYE = "Thank you for calling the clinic today."
# deepgram-sdk 7.17 imports websockets' deprecated legacy names when its speak client loads.
pytestmark = pytest.mark.filterwarnings(r"ignore:websockets\..* is deprecated:DeprecationWarning")


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    """The SDK's HTTP client, closed after the test (the SDK never closes its own)."""
    with httpx.Client(timeout=120) as client:
        yield client


def sdk(server: RunningServer, creds: Creds, http: httpx.Client) -> DeepgramClient:
    environment = DeepgramClientEnvironment(
        base=server.url, production=server.ws_url, agent=server.ws_url, agent_rest=server.url
    )
    return DeepgramClient(
        api_key=creds.api_key, environment=environment, max_retries=0, httpx_client=http
    )


# REST ------------------------------------------------------------------------------------


def test_rest_speak_gives_a_wav_that_transcribes_back(
    server: RunningServer, http: httpx.Client, workspace: Creds
) -> None:
    audio = b"".join(
        sdk(server, workspace, http).speak.v1.audio.generate(
            text=FOX, model="aura-2-thalia-en", encoding="linear16", sample_rate=16000
        )
    )
    codec, rate, samples = decode(audio)
    assert (codec, rate) == ("pcm_s16le", 16000)
    assert_speech(samples, rate, FOX)
    heard = words_of(transcribe(server, workspace, audio))
    assert word_edits(words_of(FOX), heard) <= 1, heard


def test_rest_default_is_mp3(server: RunningServer, http: httpx.Client, workspace: Creds) -> None:
    audio = b"".join(sdk(server, workspace, http).speak.v1.audio.generate(text="Hello there."))
    codec, rate, _ = decode(audio)
    assert (codec, rate) == ("mp3float", 22050)


@pytest.mark.parametrize(
    ("params", "key", "status", "err_code", "code"),
    [
        ({"model": "aura-2-nobody-en"}, True, 404, "MODEL_NOT_FOUND", "voice_not_found"),
        ({"encoding": "wma"}, True, 422, "INVALID_QUERY_PARAMETER", "invalid_request"),
        ({}, False, 401, "INVALID_AUTH", "unauthorized"),
    ],
    ids=["unknown-voice", "bad-encoding", "bad-key"],
)
def test_rest_errors_in_deepgrams_shape(
    server: RunningServer,
    http: httpx.Client,
    workspace: Creds,
    params: dict[str, str],
    key: bool,
    status: int,
    err_code: str,
    code: str,
) -> None:
    client = sdk(server, workspace if key else Creds("ws", "sv_wrong"), http)
    with pytest.raises(ApiError) as failed:
        b"".join(client.speak.v1.audio.generate(text="Hello.", **params))
    assert failed.value.status_code == status
    body: Any = failed.value.body
    assert (body["err_code"], body["error"]["code"]) == (err_code, code)
    assert body["request_id"] and "Hello" not in json.dumps(body)


# The socket ------------------------------------------------------------------------------


def test_socket_speaks_flushes_clears_and_closes(
    server: RunningServer, http: httpx.Client, workspace: Creds
) -> None:
    client = sdk(server, workspace, http)
    with client.speak.v1.connect(
        model="aura-2-thalia-en", encoding="linear16", sample_rate="16000"
    ) as socket:
        metadata = socket.recv()
        assert metadata.type == "Metadata" and metadata.request_id
        socket.send_text(SpeakV1Text(text="The quick brown fox "))
        socket.send_text(SpeakV1Text(text="jumps over the lazy dog."))
        socket.send_flush()
        audio = b""
        while True:
            message = socket.recv()
            if isinstance(message, bytes):
                audio += message
                continue
            assert (message.type, message.sequence_id) == ("Flushed", 0)
            break
        # A long text, cleared after its first audio: Cleared, and the socket goes on.
        socket.send_text(SpeakV1Text(text="This sentence keeps the stream going. " * 8))
        while not isinstance(socket.recv(), bytes):
            pass
        socket.send_clear()
        while isinstance(message := socket.recv(), bytes):
            pass
        assert (message.type, message.sequence_id) == ("Cleared", 1)
        socket.send_text(SpeakV1Text(text=GOODBYE))
        socket.send_close()
        tail = b""
        for message in socket:
            if isinstance(message, bytes):
                tail += message
    assert_speech(pcm16(audio), 16000, FOX)
    heard = words_of(transcribe(server, workspace, pcm_wav(audio, 16000)))
    assert word_edits(words_of(FOX), heard) <= 1, heard
    heard = words_of(transcribe(server, workspace, pcm_wav(tail, 16000)))
    assert word_edits(words_of(GOODBYE), heard) <= 1, heard


def test_the_first_clause_is_spoken_before_the_flush(
    server: RunningServer, workspace: Creds
) -> None:
    url = f"{server.ws_url}/v1/speak?encoding=linear16&sample_rate=16000"
    with connect(url, additional_headers={"Authorization": f"Token {workspace.api_key}"}) as ws:
        assert json.loads(ws.recv(timeout=30))["type"] == "Metadata"
        ws.send(json.dumps({"type": "Speak", "text": "Good morning, and welcome "}))
        # No Flush yet: audio must still come for the complete clause.
        assert isinstance(ws.recv(timeout=60), bytes)


def test_socket_errors_are_an_error_message_then_a_close(
    server: RunningServer, workspace: Creds
) -> None:
    headers = {"Authorization": f"Token {workspace.api_key}"}
    with connect(f"{server.ws_url}/v1/speak", additional_headers=headers) as ws:
        json.loads(ws.recv(timeout=30))
        ws.send(json.dumps({"type": "Shout", "text": "x"}))
        error = json.loads(ws.recv(timeout=30))
        assert (error["type"], error["err_code"]) == ("Error", "INVALID_QUERY_PARAMETER")
        ws.recv_events_thread.join(30)
        assert ws.protocol.close_rcvd is not None and ws.protocol.close_rcvd.code == 1008
    bad = httpx.QueryParams({"model": "aura-2-nobody-en"})
    with connect(f"{server.ws_url}/v1/speak?{bad}", additional_headers=headers) as ws:
        error = json.loads(ws.recv(timeout=30))
        assert (error["type"], error["err_code"]) == ("Error", "MODEL_NOT_FOUND")


# Retention -------------------------------------------------------------------------------


def test_under_zdr_every_path_leaves_only_usage(
    server: RunningServer, zdr_workspace: Creds
) -> None:
    cases = socket_paths(server, zdr_workspace, DEEPGRAM)
    records = wait_sockets(server, zdr_workspace, len(cases))
    assert_paths_leave_no_trace(server, cases)
    assert not any(r["content_retained"] for r in records)
    spoken = [r for r in utterances_of(records) if r["outcome"] == "ok"]
    assert spoken and spoken[0]["input_units"] > 5 and spoken[0]["output_units"] > 0.3


def test_without_zdr_each_flushed_turn_is_kept_and_nothing_else(
    server: RunningServer, workspace: Creds
) -> None:
    cases = socket_paths(server, workspace, DEEPGRAM)
    wait_sockets(server, workspace, len(cases))
    assert_only_whole_utterances_kept(server, cases)


def test_rest_under_zdr_leaves_only_usage(
    server: RunningServer, http: httpx.Client, zdr_workspace: Creds, canary: str
) -> None:
    client = sdk(server, zdr_workspace, http)
    b"".join(client.speak.v1.audio.generate(text=f"Hello {canary}.", encoding="linear16"))
    with pytest.raises(ApiError):
        b"".join(client.speak.v1.audio.generate(text=canary, model=f"aura-2-{canary}-en"))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        records = httpx.get(
            f"{server.url}/v1/usage", headers={"Authorization": f"Token {zdr_workspace.api_key}"}
        ).json()["records"]
        if len([r for r in records if r["product"] == "tts"]) >= 2:
            break
        time.sleep(0.2)
    server.store.checkpoint()
    assert server.find_marker(canary) == []
