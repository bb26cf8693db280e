"""The agent tests' own server: its LLMs are scripted providers (the behaviour under test must
not depend on a small model being clever), one declaring zero retention for streaming and one
that retains; the local SmolLM2 stays the default."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.conftest import launch
from tests.harness import Creds, RunningServer
from tests.scripted_llm import ScriptedLlm

SCRIPTED = "scripted/script"
RETAINER = "retainer/script"


@pytest.fixture(scope="session")
def scripted_llm() -> Iterator[ScriptedLlm]:
    llm = ScriptedLlm()
    yield llm
    llm.close()


@pytest.fixture(scope="session")
def agent_server(
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
    scripted_llm: ScriptedLlm,
) -> Iterator[RunningServer]:
    retainer = {
        **scripted_llm.provider("retainer"),
        "retention_sync": "retains",
        "retention_streaming": "retains",
    }
    env = {
        "SOTTOVOCE_LLM__UPSTREAM": json.dumps([scripted_llm.provider(), retainer]),
        "SOTTOVOCE_AGENTS__PING_INTERVAL_S": "1",
    }
    server = launch(tmp_path_factory, "sqlite", request, env)
    yield server
    server.stop()


def create_agent(
    server: RunningServer,
    creds: Creds,
    *,
    prompt: str = "Answer every question in one short sentence.",
    first_message: str = "",
    privacy: dict[str, Any] | None = None,
    text_only: bool = True,
    llm: str | None = SCRIPTED,
    tools: list[dict[str, Any]] | None = None,
    turn: dict[str, Any] | None = None,
    **conversation: Any,
) -> httpx.Response:
    prompt_config: dict[str, Any] = {"prompt": prompt, "temperature": 0, "max_tokens": 60}
    if llm:
        prompt_config["llm"] = llm
    if tools:
        prompt_config["tools"] = tools
    config = {
        "agent": {"first_message": first_message, "language": "en", "prompt": prompt_config},
        "tts": {"voice_id": "joe", "agent_output_audio_format": "pcm_16000"},
        "turn": turn or {"turn_timeout": -1},
        "conversation": {"text_only": text_only, **conversation},
    }
    return httpx.post(
        f"{server.url}/v1/convai/agents/create",
        headers={"xi-api-key": creds.api_key},
        json={
            "name": "test agent",
            "conversation_config": config,
            "platform_settings": {"privacy": privacy or {}},
        },
        timeout=30,
    )


def agent_id(server: RunningServer, creds: Creds, **kwargs: Any) -> str:
    reply = create_agent(server, creds, **kwargs)
    assert reply.status_code == 200, reply.text
    return str(reply.json()["agent_id"])


@contextlib.contextmanager
def open_conversation(
    server: RunningServer,
    creds: Creds,
    agent: str,
    variables: dict[str, str] | None = None,
    **override: Any,
) -> Iterator[ClientConnection]:
    """A conversation socket, initiated (dynamic variables, overrides)."""
    url = f"{server.ws_url}/v1/convai/conversation?agent_id={agent}"
    with connect(url, additional_headers={"xi-api-key": creds.api_key}, open_timeout=30) as ws:
        initiation = {
            "type": "conversation_initiation_client_data",
            "dynamic_variables": variables or {},
            "conversation_config_override": override,
        }
        # A conversation the server refuses (another workspace's agent) may be closed before
        # this is sent: its error and close are still read by the test.
        with contextlib.suppress(ConnectionClosed):
            ws.send(json.dumps(initiation))
        yield ws


def receive_until(
    ws: ClientConnection, kind: str, timeout: float = 60, seen: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The next message of ``kind`` (pings are answered on the way)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        message = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
        if seen is not None:
            seen.append(message)
        if message.get("type") == "ping":
            ws.send(json.dumps({"type": "pong", "event_id": message["ping_event"]["event_id"]}))
        if message.get("type") == kind:
            return dict(message)


def conversation_ids(server: RunningServer, creds: Creds, agent: str) -> list[str]:
    reply = httpx.get(
        f"{server.url}/v1/convai/conversations",
        headers={"xi-api-key": creds.api_key},
        params={"agent_id": agent},
    )
    assert reply.status_code == 200, reply.text
    return [c["conversation_id"] for c in reply.json()["conversations"]]
