"""What the upstream adapter sends a provider, and how it reads what comes back.

The provider here is a small real HTTP server on 127.0.0.1 that records each request and
answers as told: it stands for providers whose logs we cannot read (OpenAI, Groq). Routing
against a real sottovoce provider is tested in ``tests/api/test_chat_upstream.py``.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from pydantic import SecretStr

from sottovoce.config import UpstreamProvider
from sottovoce.engines.base import ChatMessage, ChatRequest
from sottovoce.engines.upstream import UpstreamChatModel
from sottovoce.errors import UpstreamFailed
from sottovoce.privacy.providers import Mode
from sottovoce.privacy.sensitive import Sensitive


class Provider:
    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.status = 200
        self.reply: bytes = b""
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                provider.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(provider.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(provider.reply)))
                self.end_headers()
                self.wfile.write(provider.reply)

            def log_message(self, format: str, *args: object) -> None:
                return None

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/v1"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()


@pytest.fixture
def provider() -> Iterator[Provider]:
    running = Provider()
    yield running
    running.http.shutdown()
    running.http.server_close()


def model(provider: Provider) -> UpstreamChatModel:
    config = UpstreamProvider(
        name="acme", base_url=provider.url, api_key=SecretStr("sk-acme"), models=("m1",)
    )
    return UpstreamChatModel(config, "m1")


def ask(text: str) -> ChatRequest:
    return ChatRequest(
        messages=(ChatMessage("user", Sensitive(text)),), max_tokens=5, mode=Mode.SYNC
    )


async def collect(chat: UpstreamChatModel, request: ChatRequest) -> str:
    text = "".join([d.text.reveal() async for d in chat.stream(request)])
    await chat.aclose()
    return text


def completion(text: str) -> bytes:
    return json.dumps(
        {
            "choices": [
                {"message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
            ],
            "usage": {"prompt_tokens": 3, "completion_tokens": 1},
        }
    ).encode()


def test_only_what_the_provider_needs_is_sent(provider: Provider) -> None:
    provider.reply = completion("fine")
    assert asyncio.run(collect(model(provider), ask("hello"))) == "fine"
    [(headers, body)] = provider.requests
    assert headers["authorization"] == "Bearer sk-acme"
    assert headers["user-agent"] == "sottovoce"
    assert set(headers) <= {
        "host", "authorization", "user-agent", "accept", "accept-encoding", "content-type",
        "content-length", "connection",
    }  # fmt: skip
    assert body["model"] == "m1"
    assert body["messages"] == [{"role": "user", "content": "hello"}]
    assert body["store"] is False, "the provider is asked not to keep it"
    assert "user" not in body
    assert "metadata" not in body


def test_a_provider_error_is_a_502_that_does_not_echo_the_provider(provider: Provider) -> None:
    provider.status = 400
    provider.reply = b'{"error": {"message": "bad prompt: secret words"}}'
    with pytest.raises(UpstreamFailed) as caught:
        asyncio.run(collect(model(provider), ask("secret words")))
    assert "secret" not in caught.value.message
    assert "400" in caught.value.message


def test_a_reply_that_is_not_chat_completions_is_a_502(provider: Provider) -> None:
    provider.reply = b'{"unexpected": true}'
    with pytest.raises(UpstreamFailed):
        asyncio.run(collect(model(provider), ask("hello")))
