"""Chat models served by an OpenAI-compatible upstream provider (vLLM, llama.cpp server,
Groq, OpenAI, another sottovoce).

The provider's retention declaration travels in ``info.provider``; the retention policy reads
it before this module is ever called. What we send: the model name, the messages and the
sampling parameters, the provider's key, and ``store: false``. Nothing that identifies the end
user (no ``user`` field, no client address, no request id, a generic User-Agent).

Errors never echo what the provider said: its body may quote the prompt. A refused request is
a 502 naming the provider's status, a slow one a 504.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx

from sottovoce.config import Settings, UpstreamProvider
from sottovoce.engines.base import ChatDelta, ChatRequest, ModelInfo
from sottovoce.errors import UpstreamFailed, UpstreamTimeout
from sottovoce.privacy.providers import Mode, ProviderInfo
from sottovoce.privacy.sensitive import Sensitive

_USER_AGENT = "sottovoce"


def upstream_chat_models(settings: Settings) -> list[UpstreamChatModel]:
    """One chat model per model of each configured upstream provider."""
    return [UpstreamChatModel(p, model) for p in settings.llm.upstream for model in p.models]


def provider_info(provider: UpstreamProvider) -> ProviderInfo:
    return ProviderInfo(
        name=provider.name,
        retention={
            Mode.SYNC: provider.retention_sync,
            Mode.STREAMING: provider.retention_streaming,
        },
    )


class UpstreamChatModel:
    """One model of one upstream provider, addressed as ``provider/model``."""

    def __init__(self, provider: UpstreamProvider, model: str) -> None:
        self.info = ModelInfo(
            model_id=f"{provider.name}/{model}",
            capability="chat",
            provider=provider_info(provider),
            display_name=model,
        )
        self._provider = provider
        self._model = model
        self._client: httpx.AsyncClient | None = None
        self._client_loop: asyncio.AbstractEventLoop | None = None

    def load(self) -> None:
        """Nothing to load: the provider is only contacted when a request needs it."""

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def stream(self, request: ChatRequest) -> AsyncIterator[ChatDelta]:
        body = self._body(request)
        client = self._http()
        streaming = request.mode is Mode.STREAMING
        try:
            async with client.stream("POST", "/chat/completions", json=body) as response:
                if response.status_code >= 400:
                    raise UpstreamFailed(
                        f"The upstream provider {self._provider.name} answered "
                        f"HTTP {response.status_code}."
                    )
                if streaming:
                    async for delta in self._read_events(response):
                        yield delta
                else:
                    yield self._read_reply(await response.aread())
        except httpx.TimeoutException as exc:
            raise UpstreamTimeout(
                f"The upstream provider {self._provider.name} did not answer within "
                f"{self._provider.timeout_s:g} s."
            ) from exc
        except httpx.HTTPError as exc:
            raise UpstreamFailed(
                f"The upstream provider {self._provider.name} could not be reached."
            ) from exc

    def _http(self) -> httpx.AsyncClient:
        # One connection pool per provider and event loop (keeps TLS sessions warm).
        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop:
            headers = {"User-Agent": _USER_AGENT, "Accept": "application/json"}
            if self._provider.api_key is not None:
                headers["Authorization"] = f"Bearer {self._provider.api_key.get_secret_value()}"
            self._client = httpx.AsyncClient(
                base_url=self._provider.base_url.rstrip("/"),
                headers=headers,
                timeout=httpx.Timeout(self._provider.timeout_s),
                follow_redirects=False,
                trust_env=False,
            )
            self._client_loop = loop
        return self._client

    def _body(self, request: ChatRequest) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self._model,
            "messages": [{"role": m.role, "content": m.content.reveal()} for m in request.messages],
            "store": False,
            "stream": request.mode is Mode.STREAMING,
        }
        if request.mode is Mode.STREAMING:
            body["stream_options"] = {"include_usage": True}
        optional: Mapping[str, object | None] = {
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "top_p": request.top_p,
            "seed": request.seed,
            "stop": list(request.stop) or None,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        return body

    def _read_reply(self, raw: bytes) -> ChatDelta:
        try:
            reply = json.loads(raw)
            choice = reply["choices"][0]
            text = choice["message"].get("content") or ""
            usage = reply.get("usage") or {}
            return ChatDelta(
                text=Sensitive(str(text)),
                finish_reason=str(choice.get("finish_reason") or "stop"),
                prompt_tokens=_int_or_none(usage.get("prompt_tokens")),
                completion_tokens=_int_or_none(usage.get("completion_tokens")),
            )
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
            raise self._malformed() from exc

    async def _read_events(self, response: httpx.Response) -> AsyncIterator[ChatDelta]:
        finish: str | None = None
        usage: Mapping[str, Any] = {}
        async for line in response.aiter_lines():
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                break
            try:
                chunk = json.loads(data)
                usage = chunk.get("usage") or usage
                choices = chunk.get("choices") or []
                if not choices:
                    continue
                text = (choices[0].get("delta") or {}).get("content") or ""
                finish = choices[0].get("finish_reason") or finish
            except (ValueError, TypeError, AttributeError) as exc:
                raise self._malformed() from exc
            if text:
                yield ChatDelta(text=Sensitive(str(text)))
        # The finish reason comes before the usage chunk: report both together, at the end.
        yield ChatDelta(
            text=Sensitive(""),
            finish_reason=str(finish or "stop"),
            prompt_tokens=_int_or_none(usage.get("prompt_tokens")),
            completion_tokens=_int_or_none(usage.get("completion_tokens")),
        )

    def _malformed(self) -> UpstreamFailed:
        return UpstreamFailed(
            f"The upstream provider {self._provider.name} sent a reply that is not "
            "OpenAI chat completions."
        )


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
