"""Per-agent retention, proved by canaries: under the agent's zero-retention mode and under the
workspace's ZDR nothing of a conversation (spoken or typed input, a tool's result, a dynamic
variable, what the agent said) is found anywhere the server persists, only usage records; a
retaining agent (the negative control) keeps them, in history and nowhere else; and redaction
keeps a card number, an e-mail address, a date of birth and a name it was told out of the store.
"""

from __future__ import annotations

import base64
import json
import random

import httpx
import pytest

from tests.api.agent_server import agent_id, conversation_ids, open_conversation, receive_until
from tests.api.elevenlabs.test_conversation import LOOKUP, say
from tests.harness import Creds, RunningServer, new_canary
from tests.polling import wait_for
from tests.spoken import random_phrase, resample, speak


def socket_record(server: RunningServer, creds: Creds) -> list[object]:
    """The conversation socket's usage record, once written (the session is over by then)."""
    return wait_for(
        lambda: [
            r for r in server.usage_records(creds.workspace_id, "agent") if r.status_code == 101
        ],
        "the conversation's usage record",
    )


def talk(server: RunningServer, creds: Creds, agent: str, markers: dict[str, str]) -> str:
    """Speak, type, answer a tool call, with the markers; what the server heard us say."""
    phrase = " ".join(random_phrase(4))
    clip = speak(f"{phrase}.")
    pcm = resample(clip, 16000).astype("<i2").tobytes() + bytes(32000)
    with open_conversation(server, creds, agent, {"caller": markers["variable"]}) as ws:
        receive_until(ws, "agent_response")
        for i in range(0, len(pcm), 3200):
            chunk = base64.b64encode(pcm[i : i + 3200]).decode()
            ws.send(json.dumps({"user_audio_chunk": chunk}))
        heard = receive_until(ws, "user_transcript")["user_transcription_event"]["user_transcript"]
        receive_until(ws, "agent_response")
        say(ws, f"call lookup with {markers['typed']}")
        call = receive_until(ws, "client_tool_call")["client_tool_call"]
        result = {"type": "client_tool_result", "tool_call_id": call["tool_call_id"]}
        ws.send(json.dumps({**result, "result": markers["tool"], "is_error": False}))
        receive_until(ws, "agent_response")
    return str(heard)


@pytest.mark.parametrize("mode", ["agent_zrm", "workspace_zdr", "retained"])
def test_a_conversation_leaves_only_usage_records_under_zero_retention(
    agent_server: RunningServer, mode: str
) -> None:
    creds = agent_server.create_workspace(mode, zdr=mode == "workspace_zdr")
    zrm = {"zero_retention_mode": mode == "agent_zrm"}
    # Text out (a reply heard only in part would be kept only in part), speech and text in.
    agent = agent_id(
        agent_server,
        creds,
        first_message="Hello {{caller}}.",
        tools=[LOOKUP],
        privacy=zrm,
    )
    markers = {name: new_canary() for name in ("variable", "typed", "tool")}
    heard = talk(agent_server, creds, agent, markers)
    assert len(heard.split()) >= 3
    (record,) = socket_record(agent_server, creds)
    agent_server.store.checkpoint()
    found = {name: agent_server.find_marker(m) for name, m in {**markers, "spoken": heard}.items()}
    if mode == "retained":
        assert all(found.values()), found
        assert all(p.startswith("history:") for places in found.values() for p in places)
        assert conversation_ids(agent_server, creds, agent)
        assert record.content_retained is True  # type: ignore[attr-defined]
        return
    assert found == {name: [] for name in found}
    assert conversation_ids(agent_server, creds, agent) == []
    records = [
        r
        for r in agent_server.usage_records(creds.workspace_id, "agent")
        if r.request_id == record.request_id  # type: ignore[attr-defined]
    ]
    assert all(r.zero_retention and not r.content_retained for r in records)
    reason = "agent_zdr" if mode == "agent_zrm" else "workspace_zdr"
    assert {r.retention_reason for r in records} == {reason}
    assert record.input_unit == "audio_seconds" and record.input_units > 1  # type: ignore[attr-defined]
    replies = [r for r in records if r.status_code != 101]
    assert replies and all(r.input_unit == "tokens" for r in replies)


def card_number() -> str:
    """A fresh 16-digit number that passes the Luhn check (as card numbers do)."""
    digits = [4, *(random.randrange(10) for _ in range(14))]
    total = sum(d if i % 2 else (d * 2 - 9 if d > 4 else d * 2) for i, d in enumerate(digits))
    digits.append((10 - total % 10) % 10)
    return " ".join("".join(map(str, digits[i : i + 4])) for i in range(0, 16, 4))


def test_redaction_keeps_personal_data_out_of_the_store(agent_server: RunningServer) -> None:
    creds = agent_server.create_workspace("redaction")
    redacting = agent_id(
        agent_server,
        creds,
        first_message="Hello {{user_name}}.",
        privacy={"conversation_history_redaction": {"enabled": True}, "record_voice": True},
    )
    plain = agent_id(agent_server, creds, first_message="Hello {{user_name}}.")
    planted: dict[str, dict[str, str]] = {}
    for agent in (redacting, plain):
        tag = new_canary().lower()
        planted[agent] = {
            "card": card_number(),
            "email": f"{tag}@example.com",
            "name": f"Zebulon {tag.title()}",
        }
        with open_conversation(
            agent_server, creds, agent, {"user_name": planted[agent]["name"]}
        ) as ws:
            receive_until(ws, "agent_response")
            p = planted[agent]
            say(ws, f"My card is {p['card']}, mail {p['email']}, born 04/03/1985.")
            receive_until(ws, "agent_response")
    (kept,) = wait_for(lambda: conversation_ids(agent_server, creds, redacting), "the redacted one")
    wait_for(lambda: conversation_ids(agent_server, creds, plain), "the plain one")
    agent_server.store.checkpoint()
    for value in planted[redacting].values():
        for form in (value, value.replace(" ", "")):
            assert agent_server.find_marker(form) == [], form
    # The negative control: the same data, unredacted, is found (in history only).
    assert agent_server.find_marker(planted[plain]["card"])
    transcript = httpx.get(
        f"{agent_server.url}/v1/convai/conversations/{kept}", headers={"xi-api-key": creds.api_key}
    ).json()
    said = [t["message"] for t in transcript["transcript"]]
    assert said[0] == "Hello [name]."
    assert "[card_number]" in said[1] and "[email_address]" in said[1]
    assert "[date_of_birth]" in said[1]
    assert transcript["has_audio"] is False  # a recording cannot be redacted: it is not kept
