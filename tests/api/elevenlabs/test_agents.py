"""ElevenLabs Agents' routes through the SDK: agents' CRUD, signed URLs, conversations' REST."""

from __future__ import annotations

import json

import httpx
import pytest
from elevenlabs import ElevenLabs
from elevenlabs.core.api_error import ApiError
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.api.agent_server import (
    RETAINER,
    agent_id,
    conversation_ids,
    create_agent,
    open_conversation,
    receive_until,
)
from tests.api.elevenlabs.agent_client import sdk
from tests.harness import RunningServer
from tests.polling import wait_for


def test_agents_are_created_listed_updated_and_deleted_through_the_sdk(
    agent_server: RunningServer,
) -> None:
    creds = agent_server.create_workspace("crud")
    other = agent_server.create_workspace("other")
    with sdk(agent_server, creds) as client, sdk(agent_server, other) as stranger:
        check_crud(agent_server, creds.api_key, client, stranger)


def check_crud(server: RunningServer, key: str, client: ElevenLabs, stranger: ElevenLabs) -> None:
    made = [
        client.conversational_ai.agents.create(
            name=f"agent {i}",
            conversation_config={
                "agent": {"first_message": "Hi", "prompt": {"prompt": "Be kind."}}
            },
        ).agent_id
        for i in range(3)
    ]
    page = client.conversational_ai.agents.list(page_size=2)
    assert [a.agent_id for a in page.agents] == made[::-1][:2] and page.has_more
    rest = client.conversational_ai.agents.list(page_size=2, cursor=page.next_cursor)
    assert [a.agent_id for a in rest.agents] == [made[0]] and not rest.has_more
    assert [a.name for a in client.conversational_ai.agents.list(search="agent 1").agents] == [
        "agent 1"
    ]
    client.conversational_ai.agents.update(
        agent_id=made[0],
        name="renamed",
        platform_settings={"privacy": {"zero_retention_mode": True, "retention_days": 7}},
    )
    agent = client.conversational_ai.agents.get(agent_id=made[0])
    assert agent.name == "renamed"
    assert agent.conversation_config.agent.first_message == "Hi"  # type: ignore[union-attr]
    privacy = agent.platform_settings.privacy  # type: ignore[union-attr]
    assert privacy.zero_retention_mode is True and privacy.retention_days == 7  # type: ignore[union-attr]
    log = httpx.get(f"{server.url}/v1/workspace/audit-log", headers={"xi-api-key": key}).json()
    assert any(
        e["setting"] == f"agent.{made[0]}.zero_retention_mode" and e["new_value"] is True
        for e in log["entries"]
    )
    client.conversational_ai.agents.delete(agent_id=made[0])
    with pytest.raises(ApiError) as missing:
        client.conversational_ai.agents.get(agent_id=made[0])
    assert missing.value.status_code == 404
    assert missing.value.body["error"]["code"] == "agent_not_found"  # type: ignore[index]
    with pytest.raises(ApiError) as foreign:
        stranger.conversational_ai.agents.get(agent_id=made[1])
    assert foreign.value.status_code == 404


def test_an_agent_that_keeps_nothing_may_not_use_an_llm_that_retains(
    agent_server: RunningServer,
) -> None:
    creds = agent_server.create_workspace("retainer")
    refused = create_agent(agent_server, creds, llm=RETAINER, privacy={"zero_retention_mode": True})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "provider_not_covered"
    assert create_agent(agent_server, creds, llm=RETAINER).status_code == 200
    zdr = agent_server.create_workspace("zdr", zdr=True)
    assert create_agent(agent_server, zdr, llm=RETAINER).json()["error"]["code"] == (
        "provider_not_covered"
    )
    bad = create_agent(agent_server, creds, llm="nobody/model")
    assert bad.status_code == 404 and bad.json()["error"]["fields"] == ["llm"]


def test_a_signed_url_opens_one_conversation_once(agent_server: RunningServer) -> None:
    creds = agent_server.create_workspace("signed")
    agent = agent_id(agent_server, creds, first_message="Welcome.")
    with sdk(agent_server, creds) as client:
        url = client.conversational_ai.conversations.get_signed_url(agent_id=agent).signed_url
    assert "xi-api-key" not in url and creds.api_key not in url
    with connect(url, open_timeout=30) as ws:
        ws.send(json.dumps({"type": "conversation_initiation_client_data"}))
        started = receive_until(ws, "conversation_initiation_metadata")
        assert started["conversation_initiation_metadata_event"]["conversation_id"]
        assert receive_until(ws, "agent_response")["agent_response_event"]["agent_response"] == (
            "Welcome."
        )
    keyless = f"{agent_server.ws_url}/v1/convai/conversation?agent_id={agent}"
    for refused in (url, keyless):  # used up; no key and no signature
        with connect(refused, open_timeout=30) as again, pytest.raises(ConnectionClosed):
            again.recv(timeout=30)
        assert (again.close_code, again.close_reason) == (1008, "unauthorized")


def test_retained_conversations_are_listed_fetched_with_audio_and_deleted(
    agent_server: RunningServer,
) -> None:
    creds = agent_server.create_workspace("rest")
    agent = agent_id(
        agent_server,
        creds,
        text_only=False,
        first_message="Hello there.",
        privacy={"record_voice": True, "retention_days": 30},
    )
    other = agent_id(agent_server, creds, first_message="Other.")
    for target, text in ((agent, "first call"), (agent, "second call"), (other, "elsewhere")):
        with open_conversation(agent_server, creds, target) as ws:
            receive_until(ws, "agent_response")
            ws.send(json.dumps({"type": "user_message", "text": text}))
            receive_until(ws, "agent_response")
    ids = wait_for(
        lambda: (
            (found := conversation_ids(agent_server, creds, agent)) and len(found) == 2 and found
        ),
        "two conversations of the agent",
    )
    (text_only,) = wait_for(lambda: conversation_ids(agent_server, creds, other), "the other")
    with sdk(agent_server, creds) as client:
        check_conversations(agent_server, client, agent, ids, text_only)


def check_conversations(
    server: RunningServer, client: ElevenLabs, agent: str, ids: list[str], text_only: str
) -> None:
    page = client.conversational_ai.conversations.list(agent_id=agent, page_size=1)
    assert [c.conversation_id for c in page.conversations] == ids[:1] and page.has_more
    written = client.conversational_ai.conversations.get(conversation_id=text_only)
    assert [(t.role, t.message) for t in written.transcript] == [
        ("agent", "Other."),
        ("user", "elsewhere"),
        ("agent", "You said: elsewhere"),
    ]
    assert not written.has_audio
    got = client.conversational_ai.conversations.get(conversation_id=ids[1])
    # Spoken replies are kept as far as they were heard: the client hung up (or typed) while
    # they were still playing, so each is a prefix of what the agent wrote.
    turns = [(t.role, t.message or "") for t in got.transcript]
    assert ("user", "first call") in turns
    assert all(
        "Hello there.".startswith(m) or "You said: first call".startswith(m)
        for role, m in turns
        if role == "agent"
    )
    assert got.has_audio and got.status == "done"
    audio = b"".join(client.conversational_ai.conversations.audio.get(conversation_id=ids[1]))
    assert audio[:4] == b"RIFF" and audio[22] == 2  # a stereo WAV: the user, the agent
    client.conversational_ai.conversations.delete(conversation_id=ids[1])
    with pytest.raises(ApiError) as gone:
        client.conversational_ai.conversations.get(conversation_id=ids[1])
    assert gone.value.status_code == 404
    assert server.find_marker("first call") == []
    assert len(server.find_marker("second call")) > 0  # the search can find what is kept
