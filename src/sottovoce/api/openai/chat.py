"""OpenAI chat completions: ``POST /v1/chat/completions`` (one reply or SSE), and the stored
completions (``store: true``): list, fetch, delete.

This module translates only: the completion itself (routing, the retention decision, metering,
history) is :class:`~sottovoce.services.chat.Completion`. Content is revealed here, in the
response writer.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from sottovoce.api import streaming
from sottovoce.api.deps import Flags, context
from sottovoce.api.openai import chat_models as out
from sottovoce.api.openai.chat_models import ChatCompletionIn
from sottovoce.api.openai.errors import error_shape
from sottovoce.privacy.eligibility import Product
from sottovoce.privacy.policy import RequestFlags
from sottovoce.services.chat import ChatAsk, Completion
from sottovoce.services.context import RequestContext
from sottovoce.services.events import Done, Event, Failed, TextDelta, completed
from sottovoce.store import chat_completions
from sottovoce.store.chat_completions import StoredCompletion

router = APIRouter(prefix="/v1/chat/completions", tags=["OpenAI: chat"])
ChatContext = Annotated[RequestContext, Depends(context(Product.LLM))]


def _sse(payload: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(payload, ensure_ascii=False, separators=(',', ':'))}\n\n".encode()


@router.post("")
async def create_chat_completion(body: ChatCompletionIn, ctx: ChatContext, flags: Flags) -> Any:
    ask = ChatAsk(
        model=body.model,
        request=body.to_engine(),
        flags=RequestFlags(enable_logging=flags.enable_logging, store=body.store),
        settings=body.settings,
    )
    completion = Completion(ctx, ask)
    await completion.start()
    cmpl_id = chat_completions.completion_id(ctx.request_id)
    model = completion.model_id
    created = completion.created

    if not body.stream:
        events = await completed(completion.events())
        text = "".join(e.text.reveal() for e in events if isinstance(e, TextDelta))
        done = next(e for e in events if isinstance(e, Done))
        usage = out.usage(done.prompt_tokens, done.completion_tokens)
        reply = out.completion_body(cmpl_id, created, model, text, done.finish_reason, usage)
        return JSONResponse(reply)

    def write(event: Event) -> bytes | None:
        if isinstance(event, TextDelta):
            delta = {"content": event.text.reveal()}
            return _sse(out.chunk_body(cmpl_id, created, model, delta))
        if isinstance(event, Done):
            finish = _sse(out.chunk_body(cmpl_id, created, model, {}, event.finish_reason))
            usage = out.usage(event.prompt_tokens, event.completion_tokens)
            tail = _sse(out.usage_chunk_body(cmpl_id, created, model, usage))
            return finish + (tail if body.include_usage else b"") + b"data: [DONE]\n\n"
        if isinstance(event, Failed):
            # Headers are sent: the error goes into the stream, where the SDKs look for it.
            return _sse(error_shape(event.error, ctx.request_id))
        return None

    role = _sse(out.chunk_body(cmpl_id, created, model, {"role": "assistant", "content": ""}))
    return await streaming.stream_events(
        completion.events(),
        write,
        "text/event-stream",
        headers={"Cache-Control": "no-cache, no-store"},
        prefix=role,
    )


# Stored completions -------------------------------------------------------------------


def _stored_body(item: StoredCompletion) -> dict[str, Any]:
    reply = item.reply.reveal()
    usage = out.usage(reply["prompt_tokens"], reply["completion_tokens"])
    return out.completion_body(
        item.id,
        reply["created"],
        item.model_id or "",
        reply["content"],
        reply["finish_reason"],
        usage,
    )


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
    data = [_stored_body(item) for item in page.items]
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
    return _stored_body(item)


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
