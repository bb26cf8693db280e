"""Fixtures of the API tests: the agent tests' server with scripted LLM providers."""

from tests.api.agent_server import agent_server, scripted_llm

__all__ = ["agent_server", "scripted_llm"]
