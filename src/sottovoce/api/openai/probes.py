"""Audit probes for the OpenAI surface: speech, transcriptions, chat completions."""

from __future__ import annotations

from typing import Any

from sottovoce.audit.agent_probes import realtime_cases
from sottovoce.audit.probe import (
    AUDIT_DEAD_UPSTREAM,
    Probe,
    ProbeClient,
    long_text,
    stt_file_cases,
)


def _speech(client: ProbeClient) -> None:
    name = "tts.openai"
    url = "/v1/audio/speech"

    def body(text: str, **extra: Any) -> dict[str, Any]:
        return {"model": "tts-1", "voice": "alloy", "input": text, **extra}

    for path, extra in (
        ("success", {"response_format": "mp3"}),
        ("wav", {"response_format": "wav"}),
        ("sse", {"stream_format": "sse"}),
    ):
        case = client.marker(name, path, retained=True)
        client.send(
            case, "POST", url, headers=client.bearer, json=body(f"Hi {case.marker}.", **extra)
        )
    case = client.marker(name, "bad_format")
    bad = body(case.marker, response_format=case.marker)
    client.send(case, "POST", url, headers=client.bearer, json=bad)
    case = client.marker(name, "unknown_voice")
    client.send(case, "POST", url, headers=client.bearer, json=body(case.marker, voice=case.marker))
    case = client.marker(name, "client_disconnect")
    long = body(long_text(case.marker), response_format="pcm")
    client.disconnect(case, url, headers=client.bearer, json=long)


def _transcriptions(client: ProbeClient) -> None:
    url = "/v1/audio/transcriptions"
    stt_file_cases(client, "openai", url, ("model", "whisper-1"), "language")


def _chat(client: ProbeClient) -> None:
    name = "llm.openai_chat"
    url = "/v1/chat/completions"
    model = "local/smollm2-135m-instruct"
    headers = client.bearer

    def body(text: str, **extra: Any) -> dict[str, Any]:
        return {"model": model, "messages": [{"role": "user", "content": text}], **extra}

    for path, extra in (("success", {}), ("stream", {"stream": True})):
        case = client.marker(name, path, retained=True)
        ask = body(f"Repeat: {case.marker}", store=True, max_tokens=16, **extra)
        client.send(case, "POST", url, headers=headers, json=ask)
    case = client.marker(name, "store_false")
    client.send(case, "POST", url, headers=headers, json=body(case.marker, max_tokens=4))
    case = client.marker(name, "unknown_model")
    unknown = {**body(case.marker), "model": case.marker}
    client.send(case, "POST", url, headers=headers, json=unknown)
    case = client.marker(name, "validation_error")
    bad_role = {"model": model, "messages": [{"role": case.marker, "content": case.marker}]}
    client.send(case, "POST", url, headers=headers, json=bad_role)
    case = client.marker(name, "context_overflow")
    client.send(case, "POST", url, headers=headers, json=body((case.marker + " ") * 1000))
    case = client.marker(name, "client_disconnect")
    long_ask = body(long_text(case.marker), stream=True, max_tokens=200)
    client.disconnect(case, url, headers=headers, json=long_ask)
    # An upstream that fails: present when the audit started the server itself (it adds a
    # provider on a closed port); on an attached server, every configured upstream model.
    listed = client.http.get("/v1/models", headers=headers).json().get("data", [])
    chat = [m for m in listed if m.get("capability") == "chat"]
    for upstream in [m["id"] for m in chat if not str(m.get("id", "")).startswith("local/")]:
        if upstream.startswith(AUDIT_DEAD_UPSTREAM + "/"):
            case = client.marker(name, "upstream_error")
            failing = {**body(case.marker, max_tokens=4), "model": upstream}
            client.send(case, "POST", url, headers=headers, json=failing)


PROBES = (
    Probe("tts.openai", (("POST", "/v1/audio/speech"),), _speech),
    Probe("stt.files", (("POST", "/v1/audio/transcriptions"),), _transcriptions),
    Probe("llm.openai_chat", (("POST", "/v1/chat/completions"),), _chat),
    Probe("agents.openai_realtime", (("WS", "/v1/realtime"),), realtime_cases),
)
