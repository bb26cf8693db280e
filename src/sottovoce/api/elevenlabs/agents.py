"""ElevenLabs Agents: create, list, get, update and delete agents, and sign conversation URLs.

``POST /v1/convai/agents/create`` takes ``name``, ``conversation_config``, ``platform_settings``
and ``tags`` (see :mod:`sottovoce.api.elevenlabs.agent_doc` for what is understood); ``PATCH``
merges what it is sent into the agent, section by section. The document is sealed in the store;
its privacy settings are kept readable, and every change to them goes to the workspace's audit
log. An agent whose conversations must keep nothing (its ``zero_retention_mode``, or the
workspace's ZDR) may only use an LLM whose provider declares zero retention for streaming: the
same rule, from the same policy, as chat.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import urlencode

import anyio
from fastapi import APIRouter, Body, Depends, Query, Request

from sottovoce.api.deps import context
from sottovoce.api.elevenlabs import agent_doc
from sottovoce.privacy import policy
from sottovoce.privacy.eligibility import Product
from sottovoce.privacy.policy import RequestFlags, Route
from sottovoce.privacy.providers import Mode
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.services.agent import resolve_llm
from sottovoce.services.context import RequestContext
from sottovoce.store import agents, conversations, signed_urls
from sottovoce.store.agents import AgentPrivacy, StoredAgent
from sottovoce.store.signed_urls import Grant

router = APIRouter(prefix="/v1/convai", tags=["ElevenLabs: agents"])
AgentContext = Annotated[RequestContext, Depends(context(Product.AGENT))]
Document = Annotated[dict[str, Any], Body()]
SECTIONS = ("conversation_config", "platform_settings")


def _merge(base: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in patch.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _document(body: Mapping[str, Any]) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "name": body.get("name") if isinstance(body.get("name"), str) else "",
        "tags": [t for t in body.get("tags") or [] if isinstance(t, str)][:50],
    }
    for section in SECTIONS:
        value = body.get(section)
        doc[section] = dict(value) if isinstance(value, Mapping) else {}
    return doc


def _check(ctx: RequestContext, doc: Mapping[str, Any]) -> AgentPrivacy:
    """The privacy settings of a valid document whose LLM the retention policy allows."""
    agent_doc.validate(doc, ctx.settings.llm.max_prompt_chars)
    privacy = agent_doc.privacy_of(doc)
    model = resolve_llm(ctx, agent_doc.llm_of(doc))
    flags = RequestFlags(agent_zero_retention=privacy.zero_retention_mode)
    policy.decide(
        ctx.workspace.retention, flags, Product.AGENT, Route(model.info.provider, Mode.STREAMING)
    )
    return privacy


def _privacy_out(doc: Mapping[str, Any], privacy: AgentPrivacy) -> dict[str, Any]:
    given = agent_doc._section(doc, "platform_settings", "privacy")
    return {
        **given,
        "zero_retention_mode": privacy.zero_retention_mode,
        "record_voice": privacy.record_voice,
        "retention_days": privacy.retention_days,
        "delete_audio": privacy.delete_audio,
        "delete_transcript_and_pii": given.get("delete_transcript_and_pii") is True,
    }


def agent_body(agent: StoredAgent) -> dict[str, Any]:
    # The response writer: the one place an agent's document is revealed.
    doc = agent.document.reveal()
    return {
        "agent_id": agent.id,
        "name": doc.get("name", ""),
        "conversation_config": doc.get("conversation_config", {}),
        "platform_settings": {
            **doc.get("platform_settings", {}),
            "privacy": _privacy_out(doc, agent.privacy),
        },
        "metadata": {
            "created_at_unix_secs": agent.created_at_ms // 1000,
            "updated_at_unix_secs": agent.updated_at_ms // 1000,
        },
        "tags": doc.get("tags", []),
        "phone_numbers": [],
    }


@router.post("/agents/create")
async def create_agent(body: Document, ctx: AgentContext) -> dict[str, Any]:
    doc = _document(body)
    privacy = _check(ctx, doc)
    agent = await ctx.run_in_session(
        lambda s: agents.create(s, ctx.workspace.id, Sensitive(doc), privacy, ctx.key.id)
    )
    return {"agent_id": agent.id}


@router.get("/agents")
async def list_agents(
    ctx: AgentContext,
    page_size: Annotated[int, Query(ge=1, le=100)] = 30,
    cursor: Annotated[str | None, Query(max_length=80)] = None,
    search: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    page = await ctx.run_in_session(
        lambda s: agents.list_page(s, ctx.workspace.id, page_size, cursor)
    )
    found: list[dict[str, Any]] = []
    for agent in page.agents:
        doc = agent.document.reveal()
        name = str(doc.get("name", ""))
        if search and search.casefold() not in name.casefold():
            continue
        found.append(
            {
                "agent_id": agent.id,
                "name": name,
                "voice_id": agent_doc._section(doc, "conversation_config", "tts").get("voice_id"),
                "tags": doc.get("tags", []),
                "created_at_unix_secs": agent.created_at_ms // 1000,
                "updated_at_unix_secs": agent.updated_at_ms // 1000,
                "access_info": {"is_creator": True, "role": "admin"},
                "archived": False,
            }
        )
    return {"agents": found, "has_more": page.has_more, "next_cursor": page.next_cursor}


@router.get("/agents/{agent_id}")
async def get_agent(agent_id: str, ctx: AgentContext) -> dict[str, Any]:
    agent = await ctx.run_in_session(lambda s: agents.get(s, ctx.workspace.id, agent_id))
    return agent_body(agent)


@router.patch("/agents/{agent_id}")
async def update_agent(agent_id: str, body: Document, ctx: AgentContext) -> dict[str, Any]:
    current = await ctx.run_in_session(lambda s: agents.get(s, ctx.workspace.id, agent_id))
    patch = {k: v for k, v in body.items() if k in ("name", "tags", *SECTIONS)}
    doc = _document(_merge(current.document.reveal(), patch))
    privacy = _check(ctx, doc)
    existing = agent_doc._section(doc, "platform_settings", "privacy")
    apply = existing.get("apply_to_existing_conversations") is True

    def write(session: Any) -> StoredAgent:
        agent = agents.update(
            session, ctx.workspace.id, agent_id, Sensitive(doc), privacy, ctx.key.id
        )
        if apply:
            conversations.apply_retention(
                session, ctx.workspace.id, agent_id, privacy.retention_days
            )
            if privacy.delete_audio:
                conversations.drop_audio(session, ctx.workspace.id, agent_id)
        return agent

    agent = await ctx.run_in_session(write)
    if apply and privacy.delete_audio:
        await anyio.to_thread.run_sync(ctx.services.store.checkpoint)
    return agent_body(agent)


@router.delete("/agents/{agent_id}")
async def delete_agent(agent_id: str, ctx: AgentContext) -> dict[str, Any]:
    await ctx.run_in_session(lambda s: agents.delete(s, ctx.workspace.id, agent_id))
    await anyio.to_thread.run_sync(ctx.services.store.checkpoint)
    return {}


@router.get("/conversation/get-signed-url")
async def get_signed_url(
    request: Request, ctx: AgentContext, agent_id: Annotated[str, Query(max_length=80)]
) -> dict[str, Any]:
    await ctx.run_in_session(lambda s: agents.get(s, ctx.workspace.id, agent_id))
    grant = Grant(ctx.workspace.id, ctx.key.id, agent_id)
    ttl = ctx.settings.agents.signed_url_ttl_s
    signature = await ctx.run_in_session(lambda s: signed_urls.issue(s, grant, ttl))
    scheme = "wss" if request.url.scheme == "https" else "ws"
    query = urlencode({"agent_id": agent_id, "conversation_signature": signature})
    return {"signed_url": f"{scheme}://{request.url.netloc}/v1/convai/conversation?{query}"}
