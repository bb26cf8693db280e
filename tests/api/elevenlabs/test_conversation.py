"""The conversation socket, message by message: tools, the end of a call, barge-in with the
correction of what was heard, timers, a failing LLM and malformed messages.

The LLM is a scripted provider (``tests/scripted_llm.py``), so what is tested here is the
engine and the wire, not the cleverness of a model."""

from __future__ import annotations

import base64
import json

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection

from tests.api.agent_server import agent_id, conversation_ids, open_conversation, receive_until
from tests.harness import RunningServer
from tests.polling import wait_for

LOOKUP = {
    "type": "client",
    "name": "lookup",
    "description": "Look up an order.",
    "parameters": {"type": "object", "properties": {"value": {"type": "string"}}},
    "expects_response": True,
    "response_timeout_secs": 30,
}


def closed(ws: ClientConnection, timeout: float = 60) -> tuple[int | None, str | None]:
    """Read until the server closes; its close code and reason."""
    try:
        while True:
            message = json.loads(ws.recv(timeout=timeout))
            if message.get("type") == "ping":
                ws.send(json.dumps({"type": "pong", "event_id": message["ping_event"]["event_id"]}))
    except ConnectionClosed:
        return ws.close_code, ws.close_reason


def say(ws: ClientConnection, text: str) -> None:
    ws.send(json.dumps({"type": "user_message", "text": text}))


def test_a_client_tool_is_called_and_its_result_answered(agent_server: RunningServer) -> None:
    creds = agent_server.create_workspace("tools")
    agent = agent_id(agent_server, creds, tools=[LOOKUP])
    with open_conversation(agent_server, creds, agent) as ws:
        say(ws, "Please call lookup with A42")
        call = receive_until(ws, "client_tool_call")["client_tool_call"]
        assert (call["tool_name"], call["parameters"]) == ("lookup", {"value": "A42"})
        result = {"type": "client_tool_result", "tool_call_id": call["tool_call_id"]}
        ws.send(json.dumps({**result, "result": "shipped on Monday", "is_error": False}))
        reply = receive_until(ws, "agent_response")["agent_response_event"]["agent_response"]
    assert reply == "One moment. The tool said: shipped on Monday"


def test_the_agent_ends_the_call_with_end_call(agent_server: RunningServer) -> None:
    creds = agent_server.create_workspace("end")
    system = {"type": "system", "name": "end_call", "params": {"system_tool_type": "end_call"}}
    agent = agent_id(agent_server, creds, tools=[system])
    with open_conversation(agent_server, creds, agent) as ws:
        say(ws, "Thanks, goodbye")
        reply = receive_until(ws, "agent_response")["agent_response_event"]["agent_response"]
        assert reply == "Goodbye, have a nice day."
        assert closed(ws) == (1000, "end_call")


def test_an_llm_failing_mid_reply_ends_the_call_with_1011(agent_server: RunningServer) -> None:
    creds = agent_server.create_workspace("broken")
    agent = agent_id(agent_server, creds)
    with open_conversation(agent_server, creds, agent) as ws:
        say(ws, "Please break off now")
        assert closed(ws) == (1011, "upstream_error")
    (kept,) = wait_for(lambda: conversation_ids(agent_server, creds, agent), "the conversation")
    assert kept


def test_user_speech_cuts_the_agent_off_and_the_llm_sees_only_what_was_heard(
    agent_server: RunningServer,
) -> None:
    creds = agent_server.create_workspace("barge-in")
    long = "This first message is long enough to take several seconds to say out loud."
    agent = agent_id(agent_server, creds, text_only=False, first_message=long)
    seen: list[dict] = []  # type: ignore[type-arg]
    with open_conversation(agent_server, creds, agent) as ws:
        receive_until(ws, "audio", seen=seen)
        say(ws, "Stop there")
        interruption = receive_until(ws, "interruption", seen=seen)["interruption_event"]
        correction = receive_until(ws, "agent_response_correction", seen=seen)
        reply = receive_until(ws, "agent_response", seen=seen)["agent_response_event"]
    after = seen[seen.index(next(m for m in seen if m["type"] == "interruption")) :]
    first_audio = [m for m in after if m["type"] == "audio"]
    assert all(m["audio_event"]["event_id"] > interruption["event_id"] for m in first_audio)
    event = correction["agent_response_correction_event"]
    assert event["original_agent_response"] == long
    heard = event["corrected_agent_response"]
    assert long.startswith(heard) and len(heard) < len(long)
    # The scripted LLM repeats the last message: it was the user's, and the history before it
    # held only what had been heard.
    assert reply["agent_response"] == "You said: Stop there"


def test_max_duration_and_turn_timeout(agent_server: RunningServer) -> None:
    creds = agent_server.create_workspace("timers")
    agent = agent_id(
        agent_server, creds, first_message="Hi.", max_duration_seconds=3, turn={"turn_timeout": 1}
    )
    with open_conversation(agent_server, creds, agent) as ws:
        receive_until(ws, "agent_response")
        # After a second of silence the agent asks again (the scripted LLM echoes the nudge).
        nudge = receive_until(ws, "agent_response")["agent_response_event"]["agent_response"]
        assert nudge.startswith("You said:")
        assert closed(ws) == (1000, "max_duration_exceeded")


def test_silence_ends_the_call(agent_server: RunningServer) -> None:
    creds = agent_server.create_workspace("silence")
    agent = agent_id(
        agent_server,
        creds,
        first_message="Hi.",
        turn={"turn_timeout": -1, "silence_end_call_timeout": 1},
    )
    with open_conversation(agent_server, creds, agent) as ws:
        assert closed(ws) == (1000, "silence_timeout")


@pytest.mark.parametrize(
    ("message", "code", "reason"),
    [
        ('{"type": "user_message", "text": "oops', 1008, "invalid_json"),
        (b"\x00\x01binary", 1003, "unexpected_binary_frame"),
        (json.dumps({"user_audio_chunk": "not base64!"}), 1008, "invalid_request"),
        (
            json.dumps({"type": "client_tool_result", "tool_call_id": "x", "result": 1}),
            1008,
            "invalid_request",
        ),
    ],
)
def test_a_message_that_cannot_be_read_ends_the_call_with_its_code(
    agent_server: RunningServer, message: str | bytes, code: int, reason: str
) -> None:
    creds = agent_server.create_workspace("malformed")
    agent = agent_id(agent_server, creds)
    with open_conversation(agent_server, creds, agent) as ws:
        receive_until(ws, "conversation_initiation_metadata")
        ws.send(message)
        assert closed(ws) == (code, reason)


def test_pings_vad_scores_and_a_foreign_agent(agent_server: RunningServer) -> None:
    creds = agent_server.create_workspace("pings")
    agent = agent_id(agent_server, creds, text_only=False)
    with open_conversation(agent_server, creds, agent) as ws:
        metadata = receive_until(ws, "conversation_initiation_metadata")
        event = metadata["conversation_initiation_metadata_event"]
        assert event["agent_output_audio_format"] == "pcm_16000"
        ws.send(json.dumps({"user_audio_chunk": base64.b64encode(bytes(3200)).decode()}))
        assert receive_until(ws, "vad_score")["vad_score_event"]["vad_score"] < 0.5
        ping = receive_until(ws, "ping")["ping_event"]
        assert ping["event_id"] > 0
    stranger = agent_server.create_workspace("stranger")
    with open_conversation(agent_server, stranger, agent) as ws:
        assert closed(ws) == (1008, "agent_not_found")


def test_a_client_that_closes_while_the_agent_speaks_ends_the_call(
    agent_server: RunningServer,
) -> None:
    """The client closes while its audio is still being read and the agent is still speaking:
    a send finds it gone before the reader sees the close. The call ends at once (its usage
    record is written), not at the agent's maximum duration an hour later, holding its place
    among the server's live transcriptions all that while."""
    creds = agent_server.create_workspace("closes")
    long = "This first message is long enough to take several seconds to say out loud."
    agent = agent_id(agent_server, creds, text_only=False, first_message=long)
    quiet = base64.b64encode(bytes(3200)).decode()  # 100 ms of silence, 16 kHz
    with open_conversation(agent_server, creds, agent) as ws:
        receive_until(ws, "audio")
        for _ in range(300):
            ws.send(json.dumps({"user_audio_chunk": quiet}))

    def call_recorded() -> bool:
        # The call's own record (the agent's creation and each reply have records too).
        records = agent_server.usage_records(creds.workspace_id, product="agent")
        return any(r.input_unit == "audio_seconds" for r in records)

    wait_for(call_recorded, "the call's usage record")
