"""What the API tests share: a workspace, the vendors' SDK clients, and the agent tests' server
with scripted LLM providers."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from cartesia import Cartesia
from elevenlabs.client import ElevenLabs
from openai import OpenAI

from tests.api.agent_server import agent_server, scripted_llm
from tests.harness import Creds, RunningServer

__all__ = ["agent_server", "scripted_llm"]


@pytest.fixture(scope="module")
def creds(server: RunningServer) -> Creds:
    return server.create_workspace("sdk")


@pytest.fixture(scope="module")
def eleven(server: RunningServer, creds: Creds) -> Iterator[ElevenLabs]:
    with httpx.Client(timeout=60) as http:
        yield ElevenLabs(api_key=creds.api_key, base_url=server.url, httpx_client=http)


@pytest.fixture(scope="module")
def openai_client(server: RunningServer, creds: Creds) -> Iterator[OpenAI]:
    with OpenAI(api_key=creds.api_key, base_url=f"{server.url}/v1", max_retries=0) as client:
        yield client


@pytest.fixture(scope="module")
def cartesia(server: RunningServer, creds: Creds) -> Iterator[Cartesia]:
    with Cartesia(api_key=creds.api_key, base_url=server.url, max_retries=0) as client:
        yield client
