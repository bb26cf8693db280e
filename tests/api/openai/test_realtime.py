"""OpenAI Realtime (``WS /v1/realtime``) through the ``openai`` SDK's ``client.realtime``, by
base URL: speech in and out with the local engines, text items, function tools, barge-in with
truncation, errors that do not end the session, and what is kept (nothing: usage records)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import openai
import pytest

from tests.api.agent_server import SCRIPTED
from tests.api.tts_sockets import transcribe
from tests.harness import Creds, RunningServer, new_canary
from tests.polling import wait_for
from tests.spoken import join, pcm_wav, resample, silence, speak

RATE = 24000


@pytest.fixture
def creds(agent_server: RunningServer) -> Creds:
    return agent_server.create_workspace("realtime")


@pytest.fixture
def client(agent_server: RunningServer, creds: Creds) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(api_key=creds.api_key, base_url=f"{agent_server.url}/v1") as sdk:
        yield sdk


def realtime(client: openai.OpenAI, model: str) -> Any:
    """``client.realtime.connect()``. The SDK calls websockets' sync ``connect()`` without a
    ``with`` block, which websockets 17.1+ warns about unless ``legacy=True`` is passed."""
    return client.realtime.connect(model=model, websocket_connection_options={"legacy": True})


def until(conn: Any, kind: str, seen: list[Any] | None = None) -> Any:
    for event in conn:
        if seen is not None:
            seen.append(event)
        if event.type == kind:
            return event
    raise AssertionError(f"the session ended before {kind}")


def send_speech(conn: Any, text: str, tail: float = 1.0) -> None:
    clip = speak(text)
    pcm = resample(join(silence(0.2, clip.rate), clip, silence(tail, clip.rate)), RATE)
    data = pcm.astype("<i2").tobytes()
    step = RATE * 2 // 10
    for i in range(0, len(data), step):
        conn.input_audio_buffer.append(audio=base64.b64encode(data[i : i + step]).decode())


def ask(conn: Any, text: str) -> None:
    conn.conversation.item.create(
        item={"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
    )
    conn.response.create()


def test_a_spoken_question_is_transcribed_answered_and_spoken(
    agent_server: RunningServer, creds: Creds, client: openai.OpenAI
) -> None:
    with realtime(client, "gpt-realtime") as conn:
        assert until(conn, "session.created").session.audio.output.format.rate == RATE
        conn.session.update(
            session={
                "type": "realtime",
                "instructions": "Answer every question in one short sentence.",
                "audio": {"input": {"transcription": {"model": "whisper-1"}}},
            }
        )
        until(conn, "session.updated")
        send_speech(conn, "What is the capital of France?")
        seen: list[Any] = []
        heard = until(conn, "conversation.item.input_audio_transcription.completed", seen)
        assert "capital of france" in heard.transcript.lower()
        assert [e.type for e in seen][:2] == [
            "input_audio_buffer.speech_started",
            "input_audio_buffer.speech_stopped",
        ]
        done = until(conn, "response.done", seen)
    audio = b"".join(
        base64.b64decode(e.delta) for e in seen if e.type == "response.output_audio.delta"
    )
    assert done.response.status == "completed" and done.response.usage.output_tokens > 0
    assert "paris" in transcribe(agent_server, creds, pcm_wav(audio, RATE)).lower()


def test_text_items_and_a_function_tool(client: openai.OpenAI) -> None:
    lookup = {
        "type": "function",
        "name": "lookup",
        "description": "Look up an order.",
        "parameters": {"type": "object", "properties": {"value": {"type": "string"}}},
    }
    with realtime(client, SCRIPTED) as conn:
        conn.session.update(
            session={"type": "realtime", "output_modalities": ["text"], "tools": [lookup]}
        )
        until(conn, "session.updated")
        ask(conn, "Hello there")
        assert until(conn, "response.output_text.done").text == "You said: Hello there"
        until(conn, "response.done")
        ask(conn, "Please call lookup with B7")
        call = until(conn, "response.function_call_arguments.done")
        assert (call.name, call.arguments) == ("lookup", '{"value": "B7"}')
        until(conn, "response.done")
        conn.conversation.item.create(
            item={"type": "function_call_output", "call_id": call.call_id, "output": "in transit"}
        )
        conn.response.create()
        assert until(conn, "response.output_text.done").text == "The tool said: in transit"


def test_user_speech_cancels_the_reply_and_truncate_says_what_was_heard(
    client: openai.OpenAI,
) -> None:
    with realtime(client, SCRIPTED) as conn:
        until(conn, "session.created")
        long = "please keep talking " * 12
        ask(conn, long)
        seen: list[Any] = []
        until(conn, "response.output_audio.delta", seen)
        send_speech(conn, "Wait a moment.", tail=0.2)
        done = until(conn, "response.done", seen)
        assert done.response.status == "cancelled"
        assert "input_audio_buffer.speech_started" in [e.type for e in seen]
        item = done.response.output[0]
        conn.send(
            {
                "type": "conversation.item.truncate",
                "item_id": item.id,
                "content_index": 0,
                "audio_end_ms": 500,
            }
        )
        assert until(conn, "conversation.item.truncated").audio_end_ms == 500


def test_errors_are_reported_and_the_session_goes_on(client: openai.OpenAI) -> None:
    with realtime(client, SCRIPTED) as conn:
        until(conn, "session.created")
        conn.send({"type": "no.such.event"})  # type: ignore[arg-type]
        assert until(conn, "error").error.code == "invalid_request"
        conn.session.update(session={"type": "realtime", "output_modalities": ["text"]})
        ask(conn, "Please break off now")
        failed = until(conn, "response.done")
        assert failed.response.status == "failed"
        ask(conn, "Still there")
        assert until(conn, "response.output_text.done").text == "You said: Still there"


@pytest.mark.parametrize("zdr", [True, False])
def test_a_realtime_session_keeps_nothing(agent_server: RunningServer, zdr: bool) -> None:
    creds = agent_server.create_workspace("realtime-zdr", zdr=zdr)
    marker = new_canary()
    with (
        openai.OpenAI(api_key=creds.api_key, base_url=f"{agent_server.url}/v1") as sdk,
        realtime(sdk, SCRIPTED) as conn,
    ):
        conn.session.update(session={"type": "realtime", "instructions": f"Be brief {marker}"})
        ask(conn, f"Repeat {marker}")
        assert marker in until(conn, "response.output_audio_transcript.done").transcript
    records = wait_for(
        lambda: [
            r
            for r in agent_server.usage_records(creds.workspace_id, "agent")
            if r.status_code == 101
        ],
        "the session's usage record",
    )
    agent_server.store.checkpoint()
    assert agent_server.find_marker(marker) == []
    assert records[0].zero_retention is zdr and not records[0].content_retained
    assert records[0].retention_reason == ("workspace_zdr" if zdr else "request_store_false")
