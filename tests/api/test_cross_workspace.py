"""The cross-workspace matrix (issue 16): every route that takes an id, called with another
workspace's ids, reads nothing and changes nothing.

Workspace A owns one of each thing with an id (history item, voice, agent, conversation, chat
completion, async transcript, API key); workspace B's key calls every id route of the OpenAPI
document (every method) with A's ids. Every answer is a 404 (or 403), and afterwards A reads
each of its things exactly as before. The id routes come from the server's document: a new
route whose id this matrix cannot fill fails the test until it is added to :func:`_owned`."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from sottovoce.privacy.eligibility import HistorySource, Product
from sottovoce.privacy.policy import RequestFlags, WorkspaceRetention, decide
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.store import conversations, history, keys, voices
from sottovoce.store.chat_completions import completion_id
from sottovoce.store.conversations import ConversationMeta
from sottovoce.store.history import NewHistoryItem
from sottovoce.store.ids import now_ms
from sottovoce.store.voices import NewSample, NewVoice, VoiceMeta, VoiceStatus
from tests.harness import Creds, RunningServer
from tests.spoken import pcm_wav

RETAIN = decide(WorkspaceRetention(zdr_enabled=False), RequestFlags(), Product.TTS)
REFUSED = {403, 404}


def _auth(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


def _owned(server: RunningServer, a: Creds) -> dict[str, str]:
    """One of each id-bearing thing in workspace A, by the path parameter that names it."""
    item = NewHistoryItem(
        workspace_id=a.workspace_id,
        request_id="req_cross_tts",
        source=HistorySource.TTS,
        model_id=None,
        text=Sensitive("A's words"),
        audio=Sensitive(b"\x00\x01" * 400),
        content_type="audio/mpeg",
    )
    chat = NewHistoryItem(
        workspace_id=a.workspace_id,
        request_id="req_cross_chat",
        source=HistorySource.LLM,
        model_id="local/llm",
        text=Sensitive("A's question"),
        details=Sensitive({"messages": [{"role": "user", "content": "A's question"}]}),
    )
    voice = NewVoice(
        workspace_id=a.workspace_id,
        category="cloned",
        model_id="local/kokoro",
        meta=Sensitive(VoiceMeta("A's voice", "about A", {})),
        samples=(NewSample("a.wav", "audio/wav", Sensitive(b"\x00" * 3200)),),
        status=VoiceStatus.FAILED,
    )
    with server.store.session() as s:
        item_id = history.save(s, RETAIN, item)
        history.save(s, RETAIN, chat)
        voice_id = voices.create(s, voice)
        member = keys.create(s, a.workspace_id, is_admin=False)
    agent = httpx.post(
        f"{server.url}/v1/convai/agents/create",
        headers=_auth(a.api_key),
        json={"name": "A's agent", "conversation_config": {}},
    )
    assert agent.status_code == 200, agent.text
    agent_id = agent.json()["agent_id"]
    conversation_id = f"conv_cross_{a.workspace_id[-8:]}"
    with server.store.session() as s:
        conversations.record(
            s,
            ConversationMeta(
                id=conversation_id,
                workspace_id=a.workspace_id,
                agent_id=agent_id,
                history_item_id=item_id,
                started_at_ms=now_ms(),
                duration_ms=1000,
                message_count=2,
                status="done",
                termination_reason=None,
                has_audio=True,
                expires_at_ms=None,
            ),
        )
    upload = httpx.post(
        f"{server.url}/v2/upload", headers=_auth(a.api_key), content=pcm_wav(b"\x00" * 16000, 16000)
    )
    assert upload.status_code == 200, upload.text
    transcript = httpx.post(
        f"{server.url}/v2/transcript",
        headers=_auth(a.api_key),
        json={"audio_url": upload.json()["upload_url"]},
    )
    assert transcript.status_code == 200, transcript.text
    return {
        "history_item_id": item_id,
        "voice_id": voice_id,
        "agent_id": agent_id,
        "conversation_id": conversation_id,
        "completion_id": completion_id("req_cross_chat"),
        "transcript_id": transcript.json()["id"],
        "key_id": member.key.id,
    }


def _id_routes(server: RunningServer) -> list[tuple[str, str, list[str]]]:
    document = httpx.get(f"{server.url}/openapi.json").json()
    return [
        (method.upper(), path, re.findall(r"\{([^}]+)\}", path))
        for path, operations in document["paths"].items()
        if "{" in path
        for method in operations
    ]


def _views(
    server: RunningServer, a: Creds, routes: list[tuple[str, str, list[str]]], ids: dict[str, str]
) -> dict[str, Any]:
    """What A reads at each GET id route: status and body (or the audio's length)."""
    seen: dict[str, Any] = {}
    for method, path, params in routes:
        if method != "GET":
            continue
        url = path
        for name in params:
            url = url.replace(f"{{{name}}}", ids[name])
        response = httpx.get(server.url + url, headers=_auth(a.api_key), timeout=30)
        kind = response.headers.get("content-type", "")
        body: Any = (
            response.json() if kind.startswith("application/json") else len(response.content)
        )
        if isinstance(body, dict) and path.startswith("/v2/transcript"):
            body = {"id": body.get("id")}  # a transcript moves on by itself: its id stays
        seen[f"{method} {path}"] = (response.status_code, body)
    return seen


def _valid_body(path: str) -> dict[str, Any]:
    """A body the route would take from A, so that only the id can make B's call fail."""
    if "/speech-to-speech/" in path or "/voice-changer/" in path:
        return {"files": {"audio": ("b.wav", pcm_wav(b"\x00" * 8000, 16000), "audio/wav")}}
    if path.startswith("/v1/text-to-speech/"):
        return {"json": {"text": "B's words."}}
    return {"json": {"name": "B was here"}}


@pytest.mark.timeout(120)
def test_another_workspace_reads_and_changes_nothing(server: RunningServer) -> None:
    a = server.create_workspace("owner")
    b = server.create_workspace("stranger")
    ids = _owned(server, a)
    routes = _id_routes(server)
    uncovered = sorted({p for _m, _path, params in routes for p in params} - set(ids))
    assert uncovered == [], f"id routes the matrix cannot fill: {uncovered}"
    before = _views(server, a, routes, ids)
    assert all(status == 200 for status, _ in before.values()), before

    answers: dict[str, int] = {}
    for method, path, params in routes:
        url = path
        for name in params:
            url = url.replace(f"{{{name}}}", ids[name])
        response = httpx.request(
            method, server.url + url, headers=_auth(b.api_key), timeout=60, **_valid_body(path)
        )
        answers[f"{method} {path}"] = response.status_code
    assert len(answers) >= 15
    assert {k: v for k, v in answers.items() if v not in REFUSED} == {}

    assert _views(server, a, routes, ids) == before
    with server.store.session() as s:  # A's key was not revoked by B's DELETE
        listed = {k.id: k for k in keys.list_for(s, a.workspace_id)}
    assert listed[ids["key_id"]].revoked_at_ms is None
