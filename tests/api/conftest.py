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
from tests.conftest import launch
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


STRICT_ENV = {
    # Admission control (test_admission): one synthesis at a time; two sockets, one a workspace.
    "SOTTOVOCE_LIMITS__MAX_CONCURRENT_SYNTHESIS": "1",
    "SOTTOVOCE_LIMITS__MAX_CONCURRENT_SESSIONS": "2",
    "SOTTOVOCE_LIMITS__WORKSPACE_MAX_CONCURRENT_SESSIONS": "1",
    # Slow clients (test_slow_clients): headers in 1 s, a body never idle 1 s, whole in 3 s.
    "SOTTOVOCE_SERVER__HEADER_TIMEOUT_S": "1",
    "SOTTOVOCE_SERVER__BODY_IDLE_TIMEOUT_S": "1",
    "SOTTOVOCE_SERVER__BODY_TIMEOUT_S": "3",
}


@pytest.fixture(scope="session")
def strict_server(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[RunningServer]:
    """A server with tiny limits and deadlines, shared by the modules that test them (each of
    their tests waits for its own requests to end, so they never overlap)."""
    server = launch(tmp_path_factory, "sqlite", request, STRICT_ENV)
    yield server
    server.stop()
