"""What an open socket was opened with can change under it: its key revoked, its workspace
deleted, restricted or switched to ZDR. Each change reaches the socket within about a second
(``server.session_recheck_s`` is 0.5 s): it is closed with its vendor's error and the auth close
code, its usage is recorded, and a session decided under "retain" keeps nothing afterwards.

Changes are made two ways: through the database from this process (as ``sottovoce key revoke``
or another replica would: only the server's periodic re-check can see them) and through the
server's own admin API (which also checks at once).
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from sottovoce.store import history, keys, workspaces
from sottovoce.store.history import HistoryFilter
from tests.api.agent_server import SCRIPTED, agent_id, open_conversation, receive_until
from tests.harness import Creds, RunningServer
from tests.spoken import join, resample, silence, speak

DEADLINE_S = 1.5
"""Revocation to close, measured by the client: a second, with room for a busy test machine."""


def closed(ws: ClientConnection, timeout: float = 10) -> tuple[list[dict[str, Any]], int, str]:
    """Every message until the server closes; its close code and reason."""
    messages = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            raw = ws.recv(timeout=deadline - time.monotonic())
            messages.append(json.loads(raw))
    except ConnectionClosed as exc:
        if exc.rcvd is None:
            raise AssertionError("the connection dropped without a close frame") from None
        return messages, exc.rcvd.code, exc.rcvd.reason
    raise AssertionError(f"the socket was never closed: {messages[-3:]}")


def realtime_stt(server: RunningServer, key: str, **query: str) -> ClientConnection:
    params = {"model_id": "scribe_v2_realtime", "audio_format": "pcm_16000", **query}
    url = f"{server.ws_url}/v1/speech-to-text/realtime?{httpx.QueryParams(params)}"
    return connect(url, additional_headers={"xi-api-key": key}, open_timeout=30)


def test_a_key_revoked_elsewhere_closes_its_realtime_transcription(
    server: RunningServer, workspace: Creds
) -> None:
    with server.store.session() as session:
        created = keys.create(session, workspace.workspace_id, is_admin=False)
    with realtime_stt(server, created.secret) as ws:
        assert json.loads(ws.recv(timeout=30))["message_type"] == "session_started"
        ws.send(json.dumps({"message_type": "input_audio_chunk", "audio_base_64": ""}))
        with server.store.session() as session:
            keys.revoke(session, created.key.id)
        revoked_at = time.monotonic()
        messages, code, _ = closed(ws)
        elapsed = time.monotonic() - revoked_at
    assert messages[-1] == {
        "message_type": "auth_error",
        "error": "The API key was revoked.",
        "code": "session_revoked",
    }
    assert code == 1008
    assert elapsed < DEADLINE_S, f"closed {elapsed:.2f} s after the key was revoked"
    [record] = server.wait_for_usage(workspace.workspace_id, 1, "stt")
    assert (record.error_code, record.outcome) == ("session_revoked", "error")
    # The workspace's own admin key was not revoked: its sockets still open.
    with realtime_stt(server, workspace.api_key) as ws:
        assert json.loads(ws.recv(timeout=30))["message_type"] == "session_started"


@pytest.fixture(scope="module")
def sentence() -> bytes:
    clip = speak("Please bring the blue jacket to the garden party tomorrow.")
    pcm = resample(join(silence(0.3, clip.rate), clip, silence(0.5, clip.rate)), 16000)
    return pcm.astype("<i2").tobytes()


def test_a_zdr_switch_closes_a_retaining_session_which_then_keeps_nothing(
    server: RunningServer, workspace: Creds, sentence: bytes
) -> None:
    with realtime_stt(server, workspace.api_key) as ws:
        assert json.loads(ws.recv(timeout=30))["message_type"] == "session_started"
        audio = base64.b64encode(sentence).decode()
        ws.send(json.dumps({"message_type": "input_audio_chunk", "audio_base_64": audio}))
        ws.send(json.dumps({"audio_base_64": "", "commit": True}))
        while json.loads(ws.recv(timeout=60))["message_type"] != "committed_transcript":
            pass
        # A transcript was gathered under "retain"; the workspace now switches to ZDR.
        switched = httpx.patch(
            f"{server.url}/v1/workspace",
            headers={"xi-api-key": workspace.api_key},
            json={"zdr_enabled": True},
        )
        assert switched.status_code == 200, switched.text
        switched_at = time.monotonic()
        messages, code, _ = closed(ws)
        elapsed = time.monotonic() - switched_at
    assert messages[-1]["code"] == "session_revoked"
    assert messages[-1]["error"] == "The workspace's retention settings changed."
    assert code == 1008
    assert elapsed < DEADLINE_S
    [record] = server.wait_for_usage(workspace.workspace_id, 1, "stt")
    assert record.content_retained is False
    # Without the switch the session's transcript is kept when it ends
    # (test_realtime_stt's negative control); after it, nothing was.
    with server.store.session() as session:
        assert history.list_page(session, workspace.workspace_id, HistoryFilter()).items == []


def test_a_deleted_workspace_closes_its_tts_socket(server: RunningServer) -> None:
    creds = server.create_workspace("doomed")
    url = f"{server.ws_url}/v1/text-to-speech/joe/stream-input?output_format=pcm_16000"
    with connect(url, additional_headers={"xi-api-key": creds.api_key}, open_timeout=30) as ws:
        ws.send(json.dumps({"text": " "}))
        deleted = httpx.delete(
            f"{server.url}/v1/workspace",
            headers={"xi-api-key": creds.api_key},
            params={"confirm": creds.workspace_id},
        )
        assert deleted.status_code == 200, deleted.text
        deleted_at = time.monotonic()
        messages, code, _ = closed(ws)
        elapsed = time.monotonic() - deleted_at
    assert [(m["error"], m["code"]) for m in messages] == [("session_revoked", 1008)]
    assert messages[0]["message"] == "The API key or its workspace no longer exists."
    assert code == 1008
    assert elapsed < DEADLINE_S


def test_a_restricted_workspace_ends_its_conversation(agent_server: RunningServer) -> None:
    creds = agent_server.create_workspace("agents")
    agent = agent_id(agent_server, creds)
    with open_conversation(agent_server, creds, agent) as ws:
        receive_until(ws, "conversation_initiation_metadata")
        with agent_server.store.session() as session:
            workspaces.restrict(session, creds.workspace_id, "billing")
        restricted_at = time.monotonic()
        _, code, reason = closed(ws)
        elapsed = time.monotonic() - restricted_at
    assert (code, reason) == (1008, "session_revoked")
    assert elapsed < DEADLINE_S
    # The agent's creation, then the conversation's own record.
    _, record = agent_server.wait_for_usage(creds.workspace_id, 2, "agent")
    assert (record.status_code, record.error_code) == (101, "session_revoked")


def test_a_revoked_key_ends_its_openai_realtime_session(agent_server: RunningServer) -> None:
    creds = agent_server.create_workspace("realtime")
    with agent_server.store.session() as session:
        created = keys.create(session, creds.workspace_id, is_admin=False)
    url = f"{agent_server.ws_url}/v1/realtime?{httpx.QueryParams({'model': SCRIPTED})}"
    headers = {"authorization": f"Bearer {created.secret}"}
    with connect(url, additional_headers=headers, open_timeout=30) as ws:
        assert json.loads(ws.recv(timeout=30))["type"] == "session.created"
        with agent_server.store.session() as session:
            keys.revoke(session, created.key.id)
        revoked_at = time.monotonic()
        messages, code, reason = closed(ws)
        elapsed = time.monotonic() - revoked_at
    assert messages[-1]["type"] == "error"
    assert messages[-1]["error"]["code"] == "session_revoked"
    assert (code, reason) == (1008, "session_revoked")
    assert elapsed < DEADLINE_S
