"""The audit's probes: one per content endpoint, each sending canaries down every path.

Every route the server has is either covered by a probe here or listed in
``CONTENT_FREE_ROUTES`` (endpoints that take no request content). A test builds the app and
fails when a route is in neither, so a new endpoint cannot ship without an audit probe.

A probe gets a :class:`~sottovoce.audit.ProbeClient`; for each path it asks for a fresh marker
(``client.marker(probe, path, ...)``), sends it, and records the status. Paths that should reach
history when retention is on say ``retained=True``: the negative control expects them there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sottovoce.audit import Case, ProbeClient

Route = tuple[str, str]
"""(method, path template); method ``WS`` for WebSockets."""


@dataclass(frozen=True)
class Probe:
    name: str
    routes: tuple[Route, ...]
    run: Callable[[ProbeClient], None]


CONTENT_FREE_ROUTES: frozenset[Route] = frozenset(
    {
        ("GET", "/healthz"),
        ("GET", "/metrics"),
        ("GET", "/openapi.json"),
        ("GET", "/docs"),
        ("HEAD", "/docs"),
        ("GET", "/docs/oauth2-redirect"),
        ("HEAD", "/docs/oauth2-redirect"),
        ("HEAD", "/openapi.json"),
        ("GET", "/v1/workspace"),
        ("PATCH", "/v1/workspace"),
        ("DELETE", "/v1/workspace"),
        ("GET", "/v1/workspace/audit-log"),
        ("GET", "/v1/usage"),
        ("GET", "/v1/models"),
        ("GET", "/v1/voices"),
        ("GET", "/v2/voices"),
        ("GET", "/v1/voices/{voice_id}"),
        ("GET", "/voices"),
        ("GET", "/voices/"),
        ("GET", "/voices/{voice_id}"),
        ("GET", "/v1/history/{history_item_id}"),
        ("GET", "/v1/history/{history_item_id}/audio"),
        ("DELETE", "/v1/history/{history_item_id}"),
        ("GET", "/v1/chat/completions"),
        ("GET", "/v1/chat/completions/{completion_id}"),
        ("GET", "/v1/chat/completions/{completion_id}/messages"),
        ("DELETE", "/v1/chat/completions/{completion_id}"),
    }
)


def _history_search(client: ProbeClient) -> None:
    # A search term is content: it must not reach logs, even on the error path.
    ok = client.marker("history.search", "success")
    r = client.http.get("/v1/history", params={"search": ok.marker}, headers=client.auth)
    ok.status = r.status_code
    bad = client.marker("history.search", "validation_error")
    r = client.http.get(
        "/v1/history", params={"search": bad.marker, "page_size": "0"}, headers=client.auth
    )
    bad.status = r.status_code


def _send(client: ProbeClient, case: Case, method: str, url: str, **kwargs: Any) -> None:
    kwargs.setdefault("headers", client.auth)
    case.status = client.http.request(method, url, **kwargs).status_code


def _disconnect(client: ProbeClient, case: Case, url: str, **kwargs: Any) -> None:
    """Start a streaming response, read its first bytes, and hang up."""
    kwargs.setdefault("headers", client.auth)
    with client.http.stream("POST", url, **kwargs) as response:
        case.status = response.status_code
        for _chunk in response.iter_raw(1024):
            break


def _long_text(marker: str) -> str:
    return f"{marker}. " + "This sentence keeps the stream going for a while. " * 12


def _elevenlabs_tts(client: ProbeClient) -> None:
    name = "tts.elevenlabs"
    base = "/v1/text-to-speech/joe"
    for suffix, path in (
        ("", "success"),
        ("/stream", "stream"),
        ("/with-timestamps", "with_timestamps"),
        ("/stream/with-timestamps", "stream_timestamps"),
    ):
        case = client.marker(name, path, retained=True)
        _send(client, case, "POST", base + suffix, json={"text": f"Hello {case.marker}."})
    case = client.marker(name, "request_enable_logging_false")
    _send(
        client,
        case,
        "POST",
        base,
        params={"enable_logging": "false"},
        json={"text": f"Hello {case.marker}."},
    )
    case = client.marker(name, "unknown_voice")
    _send(client, case, "POST", f"/v1/text-to-speech/{case.marker}", json={"text": case.marker})
    case = client.marker(name, "unknown_model")
    _send(client, case, "POST", base, json={"text": case.marker, "model_id": case.marker})
    case = client.marker(name, "validation_error")
    _send(
        client,
        case,
        "POST",
        base,
        json={"text": case.marker, "voice_settings": {"speed": case.marker}},
    )
    case = client.marker(name, "bad_format")
    _send(
        client,
        case,
        "POST",
        base,
        params={"output_format": case.marker},
        json={"text": case.marker},
    )
    case = client.marker(name, "invalid_json")
    _send(
        client,
        case,
        "POST",
        base,
        content=f'{{"text": "{case.marker}'.encode(),
        headers={**client.auth, "content-type": "application/json"},
    )
    case = client.marker(name, "oversized")
    _send(client, case, "POST", base, json={"text": (case.marker + " ") * 2000})
    case = client.marker(name, "client_disconnect")
    _disconnect(client, case, base + "/stream", json={"text": _long_text(case.marker)})


def _openai_speech(client: ProbeClient) -> None:
    name = "tts.openai"
    headers = {"Authorization": f"Bearer {client.api_key}"}
    for fmt, path in (("mp3", "success"), ("wav", "wav")):
        case = client.marker(name, path, retained=True)
        _send(
            client,
            case,
            "POST",
            "/v1/audio/speech",
            headers=headers,
            json={
                "model": "tts-1",
                "voice": "alloy",
                "input": f"Hi {case.marker}.",
                "response_format": fmt,
            },
        )
    case = client.marker(name, "sse", retained=True)
    _send(
        client,
        case,
        "POST",
        "/v1/audio/speech",
        headers=headers,
        json={
            "model": "tts-1",
            "voice": "alloy",
            "input": f"Hi {case.marker}.",
            "stream_format": "sse",
        },
    )
    case = client.marker(name, "bad_format")
    _send(
        client,
        case,
        "POST",
        "/v1/audio/speech",
        headers=headers,
        json={
            "model": "tts-1",
            "voice": "alloy",
            "input": case.marker,
            "response_format": case.marker,
        },
    )
    case = client.marker(name, "unknown_voice")
    _send(
        client,
        case,
        "POST",
        "/v1/audio/speech",
        headers=headers,
        json={"model": "tts-1", "voice": case.marker, "input": case.marker},
    )
    case = client.marker(name, "client_disconnect")
    _disconnect(
        client,
        case,
        "/v1/audio/speech",
        headers=headers,
        json={
            "model": "tts-1",
            "voice": "alloy",
            "input": _long_text(case.marker),
            "response_format": "pcm",
        },
    )


def _cartesia_tts(client: ProbeClient) -> None:
    name = "tts.cartesia"
    headers = {"Authorization": f"Bearer {client.api_key}", "Cartesia-Version": "2024-11-13"}
    raw = {"container": "raw", "encoding": "pcm_s16le", "sample_rate": 16000}

    def body(text: str, **extra: Any) -> dict[str, Any]:
        return {
            "model_id": "sonic-2",
            "transcript": text,
            "voice": {"mode": "id", "id": "joe"},
            "output_format": raw,
            **extra,
        }

    case = client.marker(name, "bytes", retained=True)
    _send(client, case, "POST", "/tts/bytes", headers=headers, json=body(f"Hi {case.marker}."))
    case = client.marker(name, "sse", retained=True)
    _send(client, case, "POST", "/tts/sse", headers=headers, json=body(f"Hi {case.marker}."))
    case = client.marker(name, "save", retained=True)
    _send(
        client,
        case,
        "POST",
        "/tts/bytes",
        headers=headers,
        json=body(f"Hi {case.marker}.", save=True),
    )
    case = client.marker(name, "bad_format")
    _send(
        client,
        case,
        "POST",
        "/tts/bytes",
        headers=headers,
        json={**body(case.marker), "output_format": {"container": case.marker}},
    )
    case = client.marker(name, "client_disconnect")
    _disconnect(client, case, "/tts/sse", headers=headers, json=body(_long_text(case.marker)))


def _openai_chat(client: ProbeClient) -> None:
    name = "llm.openai_chat"
    url = "/v1/chat/completions"
    headers = {"Authorization": f"Bearer {client.api_key}"}
    model = "local/smollm2-135m-instruct"

    def body(text: str, **extra: Any) -> dict[str, Any]:
        return {"model": model, "messages": [{"role": "user", "content": text}], **extra}

    for path, extra in (("success", {}), ("stream", {"stream": True})):
        case = client.marker(name, path, retained=True)
        ask = body(f"Repeat: {case.marker}", store=True, max_tokens=16, **extra)
        _send(client, case, "POST", url, headers=headers, json=ask)
    case = client.marker(name, "store_false")
    _send(client, case, "POST", url, headers=headers, json=body(case.marker, max_tokens=4))
    case = client.marker(name, "unknown_model")
    _send(
        client, case, "POST", url, headers=headers, json={**body(case.marker), "model": case.marker}
    )
    case = client.marker(name, "validation_error")
    bad_role = {"model": model, "messages": [{"role": case.marker, "content": case.marker}]}
    _send(client, case, "POST", url, headers=headers, json=bad_role)
    case = client.marker(name, "context_overflow")
    _send(client, case, "POST", url, headers=headers, json=body((case.marker + " ") * 1000))
    case = client.marker(name, "client_disconnect")
    long_ask = body(_long_text(case.marker), stream=True, max_tokens=200)
    _disconnect(client, case, url, headers=headers, json=long_ask)


PROBES: list[Probe] = [
    Probe("history.search", (("GET", "/v1/history"),), _history_search),
    Probe(
        "tts.elevenlabs",
        (
            ("POST", "/v1/text-to-speech/{voice_id}"),
            ("POST", "/v1/text-to-speech/{voice_id}/stream"),
            ("POST", "/v1/text-to-speech/{voice_id}/with-timestamps"),
            ("POST", "/v1/text-to-speech/{voice_id}/stream/with-timestamps"),
        ),
        _elevenlabs_tts,
    ),
    Probe("tts.openai", (("POST", "/v1/audio/speech"),), _openai_speech),
    Probe("tts.cartesia", (("POST", "/tts/bytes"), ("POST", "/tts/sse")), _cartesia_tts),
    Probe("llm.openai_chat", (("POST", "/v1/chat/completions"),), _openai_chat),
]
