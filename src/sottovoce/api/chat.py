"""OpenAI chat completions: ``POST /v1/chat/completions`` (one reply or SSE), and the stored
completions (``store: true``): list, fetch, delete.

One request: parse (content wrapped), find the model, decide retention with the route (which
provider will see the messages, in which mode), start the engine and wait for its first delta
(so a refused or failed request still gets a clean 4xx/5xx), then write the reply. Content is
revealed only here, in the response writer, and in history when the decision allows it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse, StreamingResponse

from sottovoce.api import chat_models as out
from sottovoce.api.chat_models import ChatCompletionIn
from sottovoce.api.deps import RequestContext, context, retention_flags
from sottovoce.api.errors import error_body
from sottovoce.engines.base import ChatDelta
from sottovoce.errors import PayloadTooLarge, SottovoceError, UpstreamFailed
from sottovoce.privacy.eligibility import HistorySource, Product
from sottovoce.privacy.policy import RequestFlags, RetentionDecision, Route
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.store import chat_completions
from sottovoce.store.history import NewHistoryItem

router = APIRouter(prefix="/v1/chat/completions", tags=["chat"])
ChatContext = Annotated[RequestContext, Depends(context(Product.LLM))]

UNCOVERED_HEADER = "x-sottovoce-retention-covered"
"""Sent as ``false`` when a zero-retention request went to a provider that does not declare
zero retention for its mode (the workspace admin allowed uncovered providers)."""


class _Outcome:
    """What the writer learnt while streaming: text, finish reason, token counts."""

    def __init__(self) -> None:
        self.pieces: list[str] = []
        self.finish_reason = "stop"
        self.prompt_tokens = 0
        self.completion_tokens = 0

    def add(self, delta: ChatDelta) -> str:
        text = delta.text.reveal()
        if text:
            self.pieces.append(text)
        if delta.finish_reason is not None:
            self.finish_reason = delta.finish_reason
            self.prompt_tokens = delta.prompt_tokens or 0
            self.completion_tokens = delta.completion_tokens or 0
        return text

    @property
    def usage(self) -> dict[str, int]:
        return out.usage(self.prompt_tokens, self.completion_tokens)


@router.post("")
async def create_chat_completion(
    body: ChatCompletionIn,
    ctx: ChatContext,
    query_flags: Annotated[RequestFlags, Depends(retention_flags)],
) -> Any:
    settings = ctx.services.settings.llm
    model = ctx.services.engines.chat_model(body.model)
    ctx.usage.model_id = model.info.model_id
    if body.prompt_chars > settings.max_prompt_chars:
        raise PayloadTooLarge(
            f"The messages are longer than this server accepts ({settings.max_prompt_chars} "
            "characters).",
        )
    flags = RequestFlags(enable_logging=query_flags.enable_logging, store=body.store)
    decision = ctx.decide(flags, Route(model.info.provider, body.mode))
    headers = {UNCOVERED_HEADER: "false"} if decision.provider_uncovered else {}

    stream = model.stream(body.to_engine())
    try:
        first = await anext(stream)
    except StopAsyncIteration as exc:
        raise UpstreamFailed("The model ended without a reply.") from exc

    cmpl_id = chat_completions.completion_id(ctx.request_id)
    created = out.now()
    outcome = _Outcome()

    def final_reply() -> dict[str, Any]:
        """The whole completion, as the sync reply and as the stored record of a stream."""
        return out.completion_body(
            cmpl_id,
            created,
            model.info.model_id,
            "".join(outcome.pieces),
            outcome.finish_reason,
            outcome.usage,
        )

    if not body.stream:
        outcome.add(first)
        async for delta in stream:
            outcome.add(delta)
        reply = final_reply()
        _meter(ctx, outcome)
        await _store(ctx, decision, body, reply)
        return JSONResponse(reply, headers=headers)

    async def events() -> AsyncIterator[str]:
        finished = False
        try:
            role = {"role": "assistant", "content": ""}
            yield _sse(out.chunk_body(cmpl_id, created, model.info.model_id, role))
            pending: ChatDelta | None = first
            while pending is not None:
                text = outcome.add(pending)
                if text:
                    delta = {"content": text}
                    yield _sse(out.chunk_body(cmpl_id, created, model.info.model_id, delta))
                pending = await anext(stream, None)
            yield _sse(
                out.chunk_body(cmpl_id, created, model.info.model_id, {}, outcome.finish_reason)
            )
            if body.include_usage:
                yield _sse(
                    out.usage_chunk_body(cmpl_id, created, model.info.model_id, outcome.usage)
                )
            yield "data: [DONE]\n\n"
            finished = True
            _meter(ctx, outcome)
            await _store(ctx, decision, body, final_reply())
        except SottovoceError as exc:
            # Headers are sent: the error goes into the stream, where the SDKs look for it.
            ctx.usage.error_code = exc.code
            yield _sse(error_body(exc, ctx.request_id))
        finally:
            if not finished:
                ctx.usage.cancelled = ctx.usage.error_code is None
                _meter(ctx, outcome)
            with anyio.CancelScope(shield=True):
                await stream.aclose()  # type: ignore[attr-defined]

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={**headers, "Cache-Control": "no-cache"},
    )


def _sse(payload: dict[str, Any]) -> str:
    return f"data: {json.dumps(payload, ensure_ascii=False, separators=(',', ':'))}\n\n"


def _meter(ctx: RequestContext, outcome: _Outcome) -> None:
    ctx.usage.input_units = 0
    ctx.usage.output_units = 0
    ctx.usage.add_input(outcome.prompt_tokens, "tokens")
    ctx.usage.add_output(outcome.completion_tokens, "tokens")


async def _store(
    ctx: RequestContext,
    decision: RetentionDecision,
    body: ChatCompletionIn,
    reply: dict[str, Any],
) -> None:
    if not decision.retain:
        return
    messages = [{"role": m.role, "content": m.to_engine().content.reveal()} for m in body.messages]
    settings = {
        k: v
        for k, v in {
            "temperature": body.temperature,
            "top_p": body.top_p,
            "max_tokens": body.max_completion_tokens or body.max_tokens,
            "seed": body.seed,
            "stream": body.stream,
        }.items()
        if v is not None
    }
    await ctx.save_history(
        decision,
        NewHistoryItem(
            workspace_id=ctx.workspace.id,
            request_id=ctx.request_id,
            source=HistorySource.LLM,
            model_id=reply["model"],
            text=Sensitive(reply["choices"][0]["message"]["content"]),
            settings=settings,
            details=Sensitive({"completion": reply, "messages": messages}),
        ),
    )


# Stored completions -------------------------------------------------------------------


@router.get("")
async def list_chat_completions(
    ctx: ChatContext,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    after: Annotated[str | None, Query(max_length=80)] = None,
    model: Annotated[str | None, Query(max_length=200)] = None,
    order: Literal["asc", "desc"] = "asc",
) -> dict[str, Any]:
    page = await ctx.run_in_session(
        lambda s: chat_completions.list_page(
            s,
            ctx.workspace.id,
            limit=limit,
            after=after,
            model_id=model,
            descending=order == "desc",
        )
    )
    data = [item.completion.reveal() for item in page.items]
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": page.has_more,
    }


@router.get("/{completion_id}")
async def get_chat_completion(completion_id: str, ctx: ChatContext) -> dict[str, Any]:
    item = await ctx.run_in_session(
        lambda s: chat_completions.get(s, ctx.workspace.id, completion_id)
    )
    return item.completion.reveal()


@router.get("/{completion_id}/messages")
async def get_chat_completion_messages(completion_id: str, ctx: ChatContext) -> dict[str, Any]:
    item = await ctx.run_in_session(
        lambda s: chat_completions.get(s, ctx.workspace.id, completion_id)
    )
    data = [
        {"id": f"{completion_id}-{i}", **message}
        for i, message in enumerate(item.messages.reveal())
    ]
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": False,
    }


@router.delete("/{completion_id}")
async def delete_chat_completion(completion_id: str, ctx: ChatContext) -> dict[str, Any]:
    await ctx.run_in_session(lambda s: chat_completions.delete(s, ctx.workspace.id, completion_id))
    await anyio.to_thread.run_sync(ctx.services.store.checkpoint)
    return {"object": "chat.completion.deleted", "id": completion_id, "deleted": True}
