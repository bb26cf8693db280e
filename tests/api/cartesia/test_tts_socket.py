"""Cartesia's TTS socket through the official SDK's websocket client (``websocket_base_url``):
contexts interleaved, flush and ``flush_done``, cancel, word timestamps within the audio, raw
encodings, per-context errors that leave the socket open, and the canaries."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cartesia import Cartesia
from websockets.sync.client import connect

from sottovoce.audit.sockets import CARTESIA
from tests.api.tts_audio import assert_speech, pcm16
from tests.api.tts_sockets import (
    assert_only_whole_utterances_kept,
    assert_paths_leave_no_trace,
    socket_paths,
    transcribe,
    utterances_of,
    wait_sockets,
    wait_usage,
)
from tests.harness import Creds, RunningServer
from tests.spoken import pcm_wav, word_edits, words_of

VOICE = {"mode": "id", "id": "a0e99841-438c-4a64-b679-ae501e7d6091"}
PCM = {"container": "raw", "encoding": "pcm_s16le", "sample_rate": 16000}


def client(server: RunningServer, creds: Creds) -> Cartesia:
    return Cartesia(api_key=creds.api_key, base_url=server.url, websocket_base_url=server.ws_url)


# The SDK calls websockets' connect() outside a with-block, which websockets 17 warns about
# unless it is told so (the warning is an error under this suite's filterwarnings).
LEGACY: Any = {"legacy": True}


def collect(events: Any) -> tuple[bytes, list[Any]]:
    audio, others = b"", []
    for event in events:
        if event.type == "chunk":
            audio += event.audio or b""
        else:
            others.append(event)
    return audio, others


def test_two_contexts_interleaved_each_speak_their_own_text(
    server: RunningServer, workspace: Creds
) -> None:
    first, second = "The quick brown fox jumps over the lazy dog.", "Please hold the line."
    with client(server, workspace).tts.websocket_connect(
        websocket_connection_options=LEGACY
    ) as conn:
        a = conn.context(model_id="sonic-2", voice=VOICE, output_format=PCM, add_timestamps=True)
        b = conn.context(model_id="sonic-2", voice=VOICE, output_format=PCM)
        a.push("The quick brown fox ")
        b.push("Please hold ")
        a.push("jumps over the lazy dog.")
        b.push("the line.")
        a.no_more_inputs()
        b.no_more_inputs()
        audio_a, events_a = collect(a.receive())
        audio_b, events_b = collect(b.receive())
    assert [e.type for e in events_b] == ["done"]
    assert events_a[-1].type == "done"
    for audio, text in ((audio_a, first), (audio_b, second)):
        heard = words_of(transcribe(server, workspace, pcm_wav(audio, 16000)))
        assert word_edits(words_of(text), heard) <= 1, heard
    # Word timestamps: every word once, in order, ending within the context's audio.
    stamps = [e.word_timestamps for e in events_a if e.type == "timestamps"]
    assert words_of(" ".join(w for s in stamps for w in s.words)) == words_of(first)
    ends = [end for s in stamps for end in s.end]
    assert ends == sorted(ends)
    assert 0.6 * len(audio_a) / 32000 < ends[-1] <= len(audio_a) / 32000 + 0.01


def test_flush_answers_flush_done_after_its_audio(server: RunningServer, workspace: Creds) -> None:
    with client(server, workspace).tts.websocket_connect(
        websocket_connection_options=LEGACY
    ) as conn:
        ctx = conn.context(model_id="sonic-2", voice=VOICE, output_format=PCM)
        ctx.push("hold on a moment", flush=True)
        seen: list[str] = []
        for event in ctx.receive():
            seen.append(event.type)
            if event.type == "flush_done":
                assert event.flush_id == 1
                break
        assert seen[0] == "chunk" and seen[-1] == "flush_done"
        ctx.no_more_inputs()
        assert [e.type for e in ctx.receive()][-1] == "done"


@pytest.mark.parametrize(
    ("encoding", "rate"), [("pcm_f32le", 44100), ("pcm_mulaw", 8000), ("pcm_s16le", 24000)]
)
def test_raw_encodings_and_rates(
    server: RunningServer, workspace: Creds, encoding: str, rate: int
) -> None:
    fmt = {"container": "raw", "encoding": encoding, "sample_rate": rate}
    text = "Your appointment is confirmed."
    with client(server, workspace).tts.websocket_connect(
        websocket_connection_options=LEGACY
    ) as conn:
        ctx = conn.context(model_id="sonic-2", voice=VOICE, output_format=fmt)
        ctx.push(text)
        ctx.no_more_inputs()
        audio, _ = collect(ctx.receive())
    width = {"pcm_f32le": 4, "pcm_mulaw": 1, "pcm_s16le": 2}[encoding]
    assert len(audio) % width == 0
    if encoding == "pcm_s16le":
        assert_speech(pcm16(audio), rate, text)
    else:
        assert 0.8 < len(audio) / width / rate < len(text) / 7


def test_cancel_stops_one_context_and_the_other_goes_on(
    server: RunningServer, workspace: Creds
) -> None:
    long = "This sentence keeps the stream going for a while. " * 8
    with client(server, workspace).tts.websocket_connect(
        websocket_connection_options=LEGACY
    ) as conn:
        a = conn.context(model_id="sonic-2", voice=VOICE, output_format=PCM)
        a.push(long)
        for event in a.receive():
            if event.type == "chunk":
                break
        a.cancel()
        b = conn.context(model_id="sonic-2", voice=VOICE, output_format=PCM)
        b.push("Still speaking.")
        b.no_more_inputs()
        audio, events = collect(b.receive())
    assert events[-1].type == "done" and audio
    records = wait_usage(server, workspace, lambda r: len(utterances_of(r)) >= 2)
    cancelled = [r for r in utterances_of(records) if r["outcome"] == "cancelled"]
    # Cut short: far less audio than the whole text would make.
    assert cancelled and 0 < cancelled[0]["output_units"] < len(long) / 20


def test_a_context_error_leaves_the_socket_open(server: RunningServer, workspace: Creds) -> None:
    with client(server, workspace).tts.websocket_connect(
        websocket_connection_options=LEGACY
    ) as conn:
        bad = conn.context(
            model_id="sonic-2", voice={"mode": "id", "id": "nobody"}, output_format=PCM
        )
        bad.push("Hello.")
        [error] = list(bad.receive())
        assert (error.type, error.error_code, error.status_code) == (
            "error",
            "voice_not_found",
            404,
        )
        mp3 = {"container": "mp3", "sample_rate": 44100, "bit_rate": 128000}
        other = conn.context(model_id="sonic-2", voice=VOICE, output_format=mp3)
        other.push("Hello.")
        [error] = list(other.receive())
        assert error.error_code == "invalid_request"
        good = conn.context(model_id="sonic-2", voice=VOICE, output_format=PCM)
        good.push("Hello.")
        good.no_more_inputs()
        assert collect(good.receive())[1][-1].type == "done"


@pytest.mark.parametrize(
    ("message", "error", "close"),
    [("{not json", "invalid_json", 1008), (b"\x00\x01", "unexpected_binary_frame", 1003)],
    ids=["not-json", "binary"],
)
def test_a_socket_error_is_an_error_event_then_a_close(
    server: RunningServer, workspace: Creds, message: str | bytes, error: str, close: int
) -> None:
    url = f"{server.ws_url}/tts/websocket?api_key={workspace.api_key}"
    with connect(url, open_timeout=30) as ws:
        ws.send(message)
        event = json.loads(ws.recv(timeout=30))
        assert (event["type"], event["error_code"]) == ("error", error)
        ws.recv_events_thread.join(30)
        assert ws.protocol.close_rcvd is not None and ws.protocol.close_rcvd.code == close


def test_under_zdr_every_path_leaves_only_usage(
    server: RunningServer, zdr_workspace: Creds
) -> None:
    cases = socket_paths(server, zdr_workspace, CARTESIA)
    records = wait_sockets(server, zdr_workspace, len(cases))
    assert_paths_leave_no_trace(server, cases)
    assert not any(r["content_retained"] for r in records)
    assert all(r["zero_retention"] for r in records if r["retention_reason"])
    spoken = [r for r in utterances_of(records) if r["outcome"] == "ok"]
    assert spoken and spoken[0]["input_units"] > 5 and spoken[0]["output_units"] > 0.3


def test_without_zdr_the_whole_utterance_is_kept_and_nothing_else(
    server: RunningServer, workspace: Creds
) -> None:
    cases = socket_paths(server, workspace, CARTESIA)
    wait_sockets(server, workspace, len(cases))
    assert_only_whole_utterances_kept(server, cases)
