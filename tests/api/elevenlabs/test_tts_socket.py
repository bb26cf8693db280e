"""ElevenLabs' TTS sockets (``stream-input``, ``multi-stream-input``) through a raw ``websockets``
client (the ElevenLabs SDK only speaks ``wss``): speech that transcribes back to its text,
alignment that fits the audio, contexts, errors with clean close codes, and the canaries."""

from __future__ import annotations

import base64
import contextlib
import json
import time
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from sottovoce.audit.sockets import ELEVENLABS_MULTI, ELEVENLABS_SINGLE
from tests.api.tts_sockets import (
    assert_only_whole_utterances_kept,
    assert_paths_leave_no_trace,
    socket_paths,
    sockets_of,
    transcribe,
    utterances_of,
    wait_sockets,
)
from tests.harness import Creds, RunningServer
from tests.spoken import pcm_wav, word_edits, words_of

RATE = 16000
SENTENCE = "The quick brown fox jumps over the lazy dog."


def open_socket(
    server: RunningServer,
    creds: Creds | None,
    multi: bool = False,
    voice: str = "joe",
    **query: str,
) -> ClientConnection:
    kind = "multi-stream-input" if multi else "stream-input"
    params = httpx.QueryParams({"output_format": f"pcm_{RATE}", **query})
    url = f"{server.ws_url}/v1/text-to-speech/{voice}/{kind}?{params}"
    headers = {"xi-api-key": creds.api_key} if creds else {}
    return connect(url, additional_headers=headers, open_timeout=30)


def send(ws: ClientConnection, *messages: dict[str, Any]) -> None:
    for message in messages:
        ws.send(json.dumps(message))


def receive_all(ws: ClientConnection, timeout: float = 120) -> tuple[list[dict[str, Any]], int]:
    """Every message until the server closes, and its close code."""
    seen = []
    deadline = time.monotonic() + timeout
    with contextlib.suppress(ConnectionClosed):
        while True:
            seen.append(json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic()))))
    received = ws.protocol.close_rcvd
    assert received is not None, "the server did not close the socket"
    return seen, received.code


def receive_until(ws: ClientConnection, done: Any, timeout: float = 120) -> list[dict[str, Any]]:
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen.append(json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic()))))
        if done(seen[-1]):
            return seen
    raise AssertionError(f"never done: {seen}")


def audio_of(messages: list[dict[str, Any]]) -> bytes:
    return b"".join(base64.b64decode(m["audio"]) for m in messages if m.get("audio"))


# Speech ----------------------------------------------------------------------------------


def test_text_in_pieces_becomes_speech_with_alignment_that_fits_the_audio(
    server: RunningServer, workspace: Creds
) -> None:
    pieces = ["The quick brown ", "fox jumps, ", "over the ", "lazy dog."]
    with open_socket(server, workspace) as ws:
        send(ws, {"text": " ", "voice_settings": {"speed": 1.0},
                  "generation_config": {"chunk_length_schedule": [50, 120]}})  # fmt: skip
        send(ws, *({"text": p, "try_trigger_generation": True} for p in pieces), {"text": ""})
        messages, code = receive_all(ws)
    assert code == 1000
    assert messages[-1] == {"isFinal": True}
    audio = audio_of(messages)
    heard = words_of(transcribe(server, workspace, pcm_wav(audio, RATE)))
    assert word_edits(words_of(SENTENCE), heard) <= 1, heard
    # Every character sent is aligned once, in order; each message's times are its own
    # (from the start of its audio) and end within its audio.
    aligned = [m for m in messages if m.get("alignment")]
    assert "".join(c for m in aligned for c in m["alignment"]["chars"]) == "".join(pieces)
    for message in aligned:
        a = message["alignment"]
        assert message["normalizedAlignment"] == a
        assert len(a["chars"]) == len(a["charStartTimesMs"]) == len(a["charDurationsMs"])
        assert a["charStartTimesMs"] == sorted(a["charStartTimesMs"])
        seconds = len(base64.b64decode(message["audio"])) / 2 / RATE
        end = a["charStartTimesMs"][-1] + a["charDurationsMs"][-1]
        assert 0.5 * seconds * 1000 < end <= seconds * 1000 + 25


def test_the_first_clause_is_spoken_before_the_rest_of_the_text_is_sent(
    server: RunningServer, workspace: Creds
) -> None:
    with open_socket(server, workspace) as ws:
        send(ws, {"text": " "}, {"text": "Good morning, "}, {"text": "and welcome "})
        # Nothing more is sent until audio comes: a server that waited for the end would time out.
        first = receive_until(ws, lambda m: bool(m.get("audio")), timeout=60)
        assert first[-1]["alignment"]["chars"][:4] == list("Good")
        send(ws, {"text": "to the clinic."}, {"text": ""})
        rest, code = receive_all(ws)
    assert code == 1000 and rest[-1] == {"isFinal": True}


def test_flush_speaks_an_unfinished_sentence_now(server: RunningServer, workspace: Creds) -> None:
    with open_socket(server, workspace, auto_mode="true") as ws:
        send(ws, {"text": " "}, {"text": "please hold the line", "flush": True})
        audio = receive_until(ws, lambda m: bool(m.get("audio")), timeout=60)
        assert "".join(audio[-1]["alignment"]["chars"]).startswith("please")
        send(ws, {"text": ""})
        receive_all(ws)


@pytest.mark.parametrize("where", ["first_message", "token_query"])
def test_the_key_may_come_in_the_first_message_or_the_query(
    server: RunningServer, workspace: Creds, where: str
) -> None:
    query = {"token": workspace.api_key} if where == "token_query" else {}
    with open_socket(server, None, **query) as ws:
        first: dict[str, Any] = {"text": " "}
        if where == "first_message":
            first["xi_api_key"] = workspace.api_key
        send(ws, first, {"text": "Hello."}, {"text": ""})
        messages, code = receive_all(ws)
    assert code == 1000 and audio_of(messages)


def test_contexts_speak_side_by_side_and_each_ends_with_its_own_final(
    server: RunningServer, workspace: Creds
) -> None:
    with open_socket(server, workspace, multi=True) as ws:
        send(
            ws,
            {"text": " ", "context_id": "a"},
            {"text": "First context here. ", "context_id": "a", "flush": True},
            {"text": "Second one speaking. ", "context_id": "b", "flush": True},
            {"text": "", "context_id": "a"},  # a keep-alive: ends nothing
        )
        seen: list[dict[str, Any]] = []
        by_context: dict[str, bytes] = {"a": b"", "b": b""}
        deadline = time.monotonic() + 120
        while not all(by_context.values()) and time.monotonic() < deadline:
            message = json.loads(ws.recv(timeout=60))
            seen.append(message)
            if message.get("audio"):
                by_context[message["contextId"]] += base64.b64decode(message["audio"])
        send(ws, {"context_id": "a", "close_context": True}, {"close_socket": True})
        rest, code = receive_all(ws)
    assert code == 1000
    finals = [m["contextId"] for m in seen + rest if m.get("isFinal")]
    assert sorted(finals) == ["a", "b"]
    assert all("contextId" in m for m in seen + rest)
    heard = words_of(transcribe(server, workspace, pcm_wav(by_context["b"], RATE)))
    assert word_edits(["second", "one", "speaking"], heard) <= 1, heard


# Errors: the vendor's message, a clean close, and the server goes on ---------------------


@pytest.mark.parametrize(
    ("voice", "query", "message", "error", "close"),
    [
        ("nobody", {}, {"text": " "}, "voice_not_found", 1008),
        ("joe", {"output_format": "wav_1"}, {"text": " "}, "invalid_request", 1008),
        ("joe", {}, {"text": " ", "generation_config": {"chunk_length_schedule": [5]}},
         "invalid_request", 1008),
        ("joe", {}, b"\x00binary", "unexpected_binary_frame", 1003),
        ("joe", {}, {"text": "x " * 40_000}, "message_too_large", 1009),
        ("joe", {}, "{not json", "invalid_json", 1008),
    ],
    ids=["unknown-voice", "bad-format", "bad-schedule", "binary", "oversized", "not-json"],
)  # fmt: skip
def test_errors_are_a_message_then_a_clean_close(
    server: RunningServer,
    workspace: Creds,
    voice: str,
    query: dict[str, str],
    message: Any,
    error: str,
    close: int,
) -> None:
    with open_socket(server, workspace, voice=voice, **query) as ws:
        with contextlib.suppress(ConnectionClosed):  # it may have been refused already
            ws.send(message if isinstance(message, str | bytes) else json.dumps(message))
        messages, code = receive_all(ws)
    assert code == close
    assert [m["error"] for m in messages] == [error]
    assert messages[0]["code"] == close and "Traceback" not in messages[0]["message"]
    # The server keeps serving.
    with open_socket(server, workspace) as ws:
        send(ws, {"text": " "}, {"text": "Still here."}, {"text": ""})
        assert receive_all(ws)[1] == 1000


def test_silence_past_the_inactivity_timeout_closes_the_socket(
    server: RunningServer, workspace: Creds
) -> None:
    with open_socket(server, workspace, inactivity_timeout="1") as ws:
        send(ws, {"text": " "})
        messages, code = receive_all(ws, timeout=30)
    assert code == 1008 and [m["error"] for m in messages] == ["inactivity_timeout"]


def test_a_sixth_context_is_refused(server: RunningServer, workspace: Creds) -> None:
    with open_socket(server, workspace, multi=True) as ws:
        send(ws, *({"text": " ", "context_id": f"c{i}"} for i in range(6)))
        messages, code = receive_all(ws)
    assert code == 1008 and messages[-1]["error"] == "too_many_contexts"


# Retention: the canaries -----------------------------------------------------------------


@pytest.mark.parametrize("dialect", [ELEVENLABS_SINGLE, ELEVENLABS_MULTI], ids=["single", "multi"])
def test_under_zdr_every_path_leaves_only_usage(
    server: RunningServer, zdr_workspace: Creds, dialect: Any
) -> None:
    cases = socket_paths(server, zdr_workspace, dialect)
    records = wait_sockets(server, zdr_workspace, len(cases))
    assert_paths_leave_no_trace(server, cases)
    assert not any(r["content_retained"] for r in records)
    # Every record whose retention was decided (not refused before that) says zero retention.
    assert all(r["zero_retention"] for r in records if r["retention_reason"])
    spoken = [r for r in utterances_of(records) if r["outcome"] == "ok"]
    assert spoken and spoken[0]["input_unit"] == "characters" and spoken[0]["input_units"] > 5
    assert spoken[0]["output_unit"] == "audio_seconds" and spoken[0]["output_units"] > 0.3
    # The dropped utterance is metered too, as cancelled, with the audio it had sent.
    assert any(r["outcome"] == "cancelled" and r["output_units"] > 0 for r in records)


@pytest.mark.parametrize("dialect", [ELEVENLABS_SINGLE, ELEVENLABS_MULTI], ids=["single", "multi"])
def test_without_zdr_the_whole_utterance_is_kept_and_nothing_else(
    server: RunningServer, workspace: Creds, dialect: Any
) -> None:
    cases = socket_paths(server, workspace, dialect)
    wait_sockets(server, workspace, len(cases))
    assert_only_whole_utterances_kept(server, cases)


def test_too_many_contexts_under_zdr_leaves_only_usage(
    server: RunningServer, zdr_workspace: Creds, canary: str
) -> None:
    with open_socket(server, zdr_workspace, multi=True) as ws:
        send(ws, *({"text": f"Hi {canary}. ", "context_id": f"c{i}"} for i in range(6)))
        receive_all(ws)
    records = wait_sockets(server, zdr_workspace, 1)
    server.store.checkpoint()
    assert server.find_marker(canary) == []
    assert sockets_of(records)[0]["error_code"] == "too_many_contexts"
    # Five contexts, each its own record (cancelled when the socket failed), and the refused one.
    assert len(utterances_of(records)) == 6
