"""Chat completions, once for every surface: route, decide, stream, meter, retain.

A :class:`Completion` finds the model, checks the prompt's size and takes the retention
decision with the route (which provider will see the messages, and in which mode) before any
content leaves for an engine. :meth:`Completion.start` starts the engine and waits for its first
delta, so a refused or failed request still becomes a clean error; :meth:`Completion.events`
then yields ``TextDelta`` events and one ``Done`` (or ``Failed``). What is retained is
vendor-neutral: the messages, the reply text, its finish reason and token counts.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio

from sottovoce.engines.base import ChatDelta, ChatModel, ChatRequest
from sottovoce.errors import PayloadTooLarge, SottovoceError, UpstreamFailed
from sottovoce.privacy.eligibility import HistorySource
from sottovoce.privacy.policy import RequestFlags, Route
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.services.context import RequestContext
from sottovoce.services.events import Done, Event, Failed, TextDelta
from sottovoce.store.history import HistoryContent


@dataclass(frozen=True)
class ChatAsk:
    """One chat completion, as a surface parsed it."""

    model: str
    request: ChatRequest
    flags: RequestFlags = field(default_factory=RequestFlags)
    settings: Mapping[str, Any] = field(default_factory=dict)
    """Request settings kept with a history item (numbers, no content)."""


class Completion:
    """One chat completion: routed and decided on creation."""

    def __init__(self, ctx: RequestContext, ask: ChatAsk) -> None:
        self.ctx = ctx
        self.ask = ask
        self.model: ChatModel = ctx.engines.chat_model(ask.model)
        ctx.usage.model_id = self.model.info.model_id
        limit = ctx.settings.llm.max_prompt_chars
        if sum(m.content.size for m in ask.request.messages) > limit:
            raise PayloadTooLarge(
                f"The messages are longer than this server accepts ({limit} characters)."
            )
        self.decision = ctx.decide(ask.flags, Route(self.model.info.provider, ask.request.mode))
        self.created = int(time.time())
        self._stream: AsyncIterator[ChatDelta] | None = None
        self._first: ChatDelta | None = None

    @property
    def model_id(self) -> str:
        return self.model.info.model_id

    @property
    def provider_uncovered(self) -> bool:
        """A zero-retention request went to a provider that does not declare zero retention
        for this mode (the workspace admin allowed it): the response must say so."""
        return self.decision.provider_uncovered

    async def start(self) -> None:
        """Start the engine and wait for its first delta (raises the engine's errors)."""
        self._stream = self.model.stream(self.ask.request)
        try:
            self._first = await anext(self._stream)
        except StopAsyncIteration as exc:
            raise UpstreamFailed("The model ended without a reply.") from exc

    async def events(self) -> AsyncIterator[Event]:
        """The reply as ``TextDelta`` events, then ``Done`` (or ``Failed`` mid-stream)."""
        assert self._stream is not None, "start() first"
        assert self._first is not None
        pieces: list[str] = []
        last = self._first
        finished = False
        try:
            pending: ChatDelta | None = self._first
            while pending is not None:
                last = pending
                text = pending.text.reveal()
                if text:
                    pieces.append(text)
                    yield TextDelta(Sensitive(text))
                pending = await anext(self._stream, None)
            done = Done(
                finish_reason=last.finish_reason or "stop",
                prompt_tokens=last.prompt_tokens or 0,
                completion_tokens=last.completion_tokens or 0,
            )
            self._meter(done)
            finished = True
            if self.decision.retain:
                await self._retain("".join(pieces), done)
            yield done
        except SottovoceError as exc:
            self.ctx.usage.error_code = exc.code
            yield Failed(exc)
        finally:
            if not finished:
                self.ctx.usage.cancelled = self.ctx.usage.error_code is None
                self._meter(None)
            pieces.clear()
            with anyio.CancelScope(shield=True):
                await self._stream.aclose()  # type: ignore[attr-defined]

    def _meter(self, done: Done | None) -> None:
        usage = self.ctx.usage
        usage.input_units = usage.output_units = 0
        usage.add_input(done.prompt_tokens if done else 0, "tokens")
        usage.add_output(done.completion_tokens if done else 0, "tokens")

    async def _retain(self, text: str, done: Done) -> None:
        messages = [
            {"role": m.role, "content": m.content.reveal()} for m in self.ask.request.messages
        ]
        reply = {
            "content": text,
            "finish_reason": done.finish_reason,
            "prompt_tokens": done.prompt_tokens,
            "completion_tokens": done.completion_tokens,
            "created": self.created,
        }
        await self.ctx.retain(
            HistoryContent(
                source=HistorySource.LLM,
                model_id=self.model_id,
                text=Sensitive(text),
                settings=dict(self.ask.settings),
                details=Sensitive({"reply": reply, "messages": messages}),
            )
        )
