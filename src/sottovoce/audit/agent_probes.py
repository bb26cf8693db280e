"""Probing the agent surfaces: agents' routes, the ElevenLabs conversation socket and OpenAI
Realtime, with the marker in everything a client can send.

Conversation paths: a typed message, a contextual update and a dynamic variable (the first
message says it) on a conversation that ends normally; spoken input dropped mid-turn; a client
tool result nobody asked for; malformed JSON, a binary frame, bad base64, an oversized message;
an unknown agent; a drop of the TCP connection mid-reply; and an LLM upstream that breaks off
mid-reply (and one that cannot be reached) where the server has them (the audit adds both to a
server it starts). Under ZDR none may leave a trace; in the control the conversations that
were kept hold their typed input and what the agent said, in history, and nothing else.
"""

from __future__ import annotations

import base64
import contextlib
import json
import socket
from collections.abc import Callable
from typing import Any

from sottovoce.audit.flaky_upstream import FLAKY_UPSTREAM
from sottovoce.audit.probe import AUDIT_DEAD_UPSTREAM, Case, ProbeClient, marked_wav

SOCKET = "agents.elevenlabs_socket"
REALTIME = "agents.openai_realtime"
Message = dict[str, Any]


def upstream_models(client: ProbeClient) -> list[str]:
    """The audit's failing upstream chat models this server offers (none on an operator's
    server)."""
    listed = client.http.get("/v1/models", headers=client.bearer).json().get("data", [])
    ids = [str(m.get("id", "")) for m in listed if m.get("capability") == "chat"]
    return [i for i in ids if i.startswith((FLAKY_UPSTREAM + "/", AUDIT_DEAD_UPSTREAM + "/"))]


def create_agent(client: ProbeClient, marker: str, llm: str | None = None) -> str:
    prompt: dict[str, Any] = {"prompt": f"Answer briefly. {marker}", "temperature": 0}
    if llm:
        prompt["llm"] = llm
    body = {
        "name": f"probe {marker}",
        "conversation_config": {
            "agent": {"first_message": "Hello {{caller}}.", "prompt": prompt},
            "conversation": {"text_only": True},
            "turn": {"turn_timeout": -1},
        },
    }
    reply = client.http.post("/v1/convai/agents/create", json=body, headers=client.auth)
    reply.raise_for_status()
    return str(reply.json()["agent_id"])


def _drop(ws: Any) -> None:
    """Hang up without a close frame (as a lost phone line would). Only our sending side is
    shut: the client's reader then sees the server's end in order, with nothing left racing."""
    with contextlib.suppress(OSError):
        ws.socket.shutdown(socket.SHUT_WR)
    _until(ws, lambda _m: False, 30)


def _until(ws: Any, done: Callable[[Message], bool], timeout: float = 120) -> bool:
    from websockets.exceptions import ConnectionClosed

    try:
        while True:
            raw = ws.recv(timeout=timeout)
            if isinstance(raw, str) and done(json.loads(raw)):
                return True
    except (ConnectionClosed, TimeoutError):
        return False


def _kind(*kinds: str) -> Callable[[Message], bool]:
    return lambda m: m.get("type") in kinds


def _send(ws: Any, *messages: Message | str | bytes) -> None:
    from websockets.exceptions import ConnectionClosed

    with contextlib.suppress(ConnectionClosed):
        for message in messages:
            ws.send(json.dumps(message) if isinstance(message, dict) else message)


def _script(
    *messages: Message | str | bytes,
    until: Callable[[Message], bool] = lambda _m: False,
    timeout: float = 30,
) -> Callable[[Any], None]:
    """Send these, then read until ``until`` (or the server closes, or ``timeout``)."""

    def play(ws: Any) -> None:
        _send(ws, *messages)
        _until(ws, until, timeout)

    return play


def elevenlabs_socket_cases(client: ProbeClient) -> None:
    from websockets.sync.client import connect

    setup = client.marker(SOCKET, "agent_prompt")
    agent = create_agent(client, setup.marker)

    def run(case: Case, script: Callable[[Any], object], agent_id: str = agent) -> None:
        url = f"{client.ws_url}/v1/convai/conversation?agent_id={agent_id}"
        with connect(url, additional_headers=client.auth, open_timeout=30) as ws:
            case.status = 101
            case.request_id = ws.response.headers.get("request-id") if ws.response else None
            script(ws)

    def start(variable: str = "") -> Message:
        return {
            "type": "conversation_initiation_client_data",
            "dynamic_variables": {"caller": variable} if variable else {},
            "conversation_config_override": {"conversation": {"text_only": True}},
        }

    typed = client.marker(SOCKET, "typed", retained=True)
    variable = client.marker(SOCKET, "dynamic_variable", retained=True)
    context = client.marker(SOCKET, "contextual_update")

    def conversation(ws: Any) -> None:
        _send(ws, start(variable.marker))
        _until(ws, _kind("agent_response"))
        _send(ws, {"type": "contextual_update", "text": f"Note {context.marker}"})
        _send(ws, {"type": "user_message", "text": f"Say {typed.marker}"})
        _until(ws, _kind("agent_response"))

    run(typed, conversation)
    for other in (variable, context):
        other.status, other.request_id = typed.status, typed.request_id

    spoken = client.marker(SOCKET, "spoken_dropped_mid_turn", audio=True)

    def speak(ws: Any) -> None:
        _send(ws, start())
        audio = base64.b64encode(marked_wav(spoken.marker)[44:]).decode()
        _send(ws, {"user_audio_chunk": audio})
        _drop(ws)

    run(spoken, speak)

    dropped = client.marker(SOCKET, "drop_mid_reply", retained=True)

    def drop(ws: Any) -> None:
        _send(ws, start(), {"type": "user_message", "text": f"Tell a long story {dropped.marker}"})
        _until(ws, _kind("agent_chat_response_part"))
        _until(
            ws,
            lambda m: (
                m.get("type") == "agent_chat_response_part"
                and m.get("text_response_part", {}).get("type") == "delta"
            ),
        )
        _drop(ws)

    run(dropped, drop)

    tool = client.marker(SOCKET, "unasked_tool_result")
    unasked = {"type": "client_tool_result", "tool_call_id": tool.marker, "result": tool.marker}
    run(tool, _script(start(), unasked))
    for path, raw in (
        ("malformed_json", '{"type": "user_message", "text": "{m}'),
        ("binary_frame", b"{m}" * 4),
        ("bad_base64", json.dumps({"user_audio_chunk": "{m}!!"})),
        ("oversized", json.dumps({"type": "user_message", "text": "{m} " * 300_000})),
    ):
        case = client.marker(SOCKET, path)
        data: str | bytes = (
            raw.replace(b"{m}", case.marker.encode())
            if isinstance(raw, bytes)
            else raw.replace("{m}", case.marker)
        )
        run(case, _script(start(), data))
    unknown = client.marker(SOCKET, "unknown_agent")
    run(unknown, _script(start()), unknown.marker)

    for model in upstream_models(client):
        path = "upstream_mid_reply" if model.startswith(FLAKY_UPSTREAM) else "upstream_error"
        case = client.marker(SOCKET, path, retained=True)
        failing = create_agent(client, client.marker(SOCKET, f"{path}_agent").marker, model)
        message = {"type": "user_message", "text": f"Hello {case.marker}"}
        run(case, _script(start(), message, timeout=120), failing)


def realtime_cases(client: ProbeClient) -> None:
    from websockets.sync.client import connect

    def run(case: Case, script: Callable[[Any], object], model: str = "gpt-realtime") -> None:
        url = f"{client.ws_url}/v1/realtime?model={model}"
        with connect(url, additional_headers=client.bearer, open_timeout=30) as ws:
            case.status = 101
            case.request_id = ws.response.headers.get("request-id") if ws.response else None
            _until(ws, _kind("session.created"), 30)
            script(ws)

    def ask(marker: str) -> list[Message]:
        return [
            {
                "type": "session.update",
                "session": {"instructions": f"Be brief. {marker}", "output_modalities": ["text"]},
            },
            {
                "type": "conversation.item.create",
                "item": {
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": f"Say {marker}"}],
                },
            },
            {"type": "response.create"},
        ]

    ok = client.marker(REALTIME, "success")
    run(ok, _script(*ask(ok.marker), until=_kind("response.done"), timeout=120))

    spoken = client.marker(REALTIME, "spoken_dropped", audio=True)

    def speak(ws: Any) -> None:
        audio = base64.b64encode(marked_wav(spoken.marker)[44:]).decode()
        _send(
            ws,
            {"type": "input_audio_buffer.append", "audio": audio},
            {"type": "input_audio_buffer.commit"},
        )
        _drop(ws)

    run(spoken, speak)
    dropped = client.marker(REALTIME, "drop_mid_response")

    def drop(ws: Any) -> None:
        _send(ws, *ask(dropped.marker))
        _until(ws, _kind("response.output_text.delta"))
        _drop(ws)

    run(dropped, drop)
    for path, raw in (
        ("malformed_json", '{"type": "session.update", "session": {"instructions": "{m}'),
        ("binary_frame", b"{m}" * 4),
        ("bad_base64", json.dumps({"type": "input_audio_buffer.append", "audio": "{m}!!"})),
        ("unknown_event", json.dumps({"type": "{m}", "text": "{m}"})),
    ):
        case = client.marker(REALTIME, path)
        data: str | bytes = (
            raw.replace(b"{m}", case.marker.encode())
            if isinstance(raw, bytes)
            else raw.replace("{m}", case.marker)
        )
        run(case, _script(data, until=_kind("error")))
    for model in upstream_models(client):
        path = "upstream_mid_reply" if model.startswith(FLAKY_UPSTREAM) else "upstream_error"
        case = client.marker(REALTIME, path)
        run(case, _script(*ask(case.marker), until=_kind("response.done"), timeout=120), model)


def agent_route_cases(client: ProbeClient) -> None:
    name = "agents.elevenlabs"
    ok = client.marker(name, "create")
    agent = create_agent(client, ok.marker)
    ok.status = 200
    patch = client.marker(name, "update")
    body = {"conversation_config": {"agent": {"first_message": patch.marker}}}
    client.send(patch, "PATCH", f"/v1/convai/agents/{agent}", json=body)
    bad = client.marker(name, "validation_error")
    invalid = {
        "conversation_config": {
            "agent": {"prompt": {"prompt": bad.marker, "temperature": bad.marker}}
        }
    }
    client.send(bad, "POST", "/v1/convai/agents/create", json=invalid)
    unknown = client.marker(name, "unknown_llm")
    llm = {
        "conversation_config": {
            "agent": {"prompt": {"prompt": unknown.marker, "llm": unknown.marker}}
        }
    }
    client.send(unknown, "POST", "/v1/convai/agents/create", json=llm)
    broken = client.marker(name, "invalid_json")
    client.send(
        broken,
        "POST",
        "/v1/convai/agents/create",
        content=f'{{"name": "{broken.marker}'.encode(),
        headers={**client.auth, "content-type": "application/json"},
    )
    search = client.marker(name, "search")
    client.send(search, "GET", "/v1/convai/agents", params={"search": search.marker})
    gone = client.marker(name, "delete")
    client.send(gone, "DELETE", f"/v1/convai/agents/{agent}")
