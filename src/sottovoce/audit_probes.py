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

from sottovoce.audit_search import AUDIO_MARKER_SAMPLE_RATE, audio_marker_pcm

AUDIT_DEAD_UPSTREAM = "audit-unreachable"
"""An upstream provider the audit adds to a server it starts: a closed port, so it fails."""

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
    url = "/v1/audio/speech"
    headers = {"Authorization": f"Bearer {client.api_key}"}

    def body(text: str, **extra: Any) -> dict[str, Any]:
        return {"model": "tts-1", "voice": "alloy", "input": text, **extra}

    for path, extra in (
        ("success", {"response_format": "mp3"}),
        ("wav", {"response_format": "wav"}),
        ("sse", {"stream_format": "sse"}),
    ):
        case = client.marker(name, path, retained=True)
        _send(client, case, "POST", url, headers=headers, json=body(f"Hi {case.marker}.", **extra))
    case = client.marker(name, "bad_format")
    _send(
        client,
        case,
        "POST",
        url,
        headers=headers,
        json=body(case.marker, response_format=case.marker),
    )
    case = client.marker(name, "unknown_voice")
    _send(client, case, "POST", url, headers=headers, json=body(case.marker, voice=case.marker))
    case = client.marker(name, "client_disconnect")
    _disconnect(
        client,
        case,
        url,
        headers=headers,
        json=body(_long_text(case.marker), response_format="pcm"),
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


def _marked_wav(marker: str, channels: int = 1) -> bytes:
    """One second of a quiet tone per channel (440 Hz, 660 Hz...: channels that differ, so a
    multi-channel file is heard channel by channel), the marker in the INFO comment chunk."""
    import io
    import math
    import struct
    import wave

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(16000)
        tone = (
            int(3000 * math.sin(2 * math.pi * 220 * (2 + c) * i / 16000))
            for i in range(16000)
            for c in range(channels)
        )
        wav.writeframes(b"".join(struct.pack("<h", v) for v in tone))
    comment = marker.encode() + b"\0"
    info = b"INFO" + b"ICMT" + struct.pack("<I", len(comment)) + comment
    data = bytearray(buffer.getvalue() + b"LIST" + struct.pack("<I", len(info)) + info)
    data[4:8] = struct.pack("<I", len(data) - 8)
    return bytes(data)


def _sampled_wav(marker: str) -> bytes:
    """Half a second of noise whose samples *are* the marker (searched in raw-sample form)."""
    import io
    import wave

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(AUDIO_MARKER_SAMPLE_RATE)
        wav.writeframes(audio_marker_pcm(marker))
    return buffer.getvalue()


def _stt_files(client: ProbeClient) -> None:
    """File transcription: the marker rides in the audio (its metadata, and as raw samples in a
    second case), the file name and the form fields. With retention on, the workspace keeps
    input audio, so the success path's markers must reach history."""
    for surface, url, model_field, model in (
        ("elevenlabs", "/v1/speech-to-text", "model_id", "scribe_v1"),
        ("openai", "/v1/audio/transcriptions", "model", "whisper-1"),
        ("cartesia", "/stt", "model", "ink-whisper"),
    ):
        samples = client.marker("stt.files", f"{surface}.raw_samples", audio=True, retained=True)
        _send(
            client,
            samples,
            "POST",
            url,
            data={model_field: model},
            files={"file": ("speech.wav", _sampled_wav(samples.marker), "audio/wav")},
        )
        for path in ("success", "corrupt_audio", "unknown_model", "bad_language"):
            case = client.marker("stt.files", f"{surface}.{path}", retained=path == "success")
            audio = _marked_wav(case.marker)
            fields = {model_field: model, "prompt": case.marker}
            if path == "corrupt_audio":
                audio = b"\0not audio " + case.marker.encode() * 50
            elif path == "unknown_model":
                fields[model_field] = case.marker
            elif path == "bad_language":
                fields["language" if surface != "elevenlabs" else "language_code"] = case.marker
            files = {"file": (f"{case.marker}.wav", audio, "audio/wav")}
            _send(client, case, "POST", url, files=files, data=fields)
    for style in ("separate", "combined"):
        case = client.marker("stt.files", f"elevenlabs.multi_channel_{style}", retained=True)
        fields = {
            "model_id": "scribe_v1",
            "use_multi_channel": "true",
            "multichannel_output_style": style,
        }
        files = {"file": (f"{case.marker}.wav", _marked_wav(case.marker, 2), "audio/wav")}
        _send(client, case, "POST", "/v1/speech-to-text", files=files, data=fields)


def _stt_realtime(client: ProbeClient) -> None:
    """The realtime socket: a malformed message and audio carrying the marker, then a commit;
    once closed normally, once dropped mid-stream."""
    import base64
    import json

    from websockets.sync.client import connect

    for path in ("normal_close", "abrupt_disconnect"):
        case = client.marker("stt.realtime", path)
        url = f"{client.ws_url}/v1/speech-to-text/realtime?xi_api_key={client.api_key}"
        with connect(url, open_timeout=30) as ws:
            json.loads(ws.recv(timeout=30))
            ws.send(json.dumps({"message_type": case.marker, "audio_base_64": case.marker}))
            json.loads(ws.recv(timeout=30))
            audio = base64.b64encode(_marked_wav(case.marker)[44:]).decode()
            ws.send(json.dumps({"audio_base_64": audio, "commit": True}))
            while json.loads(ws.recv(timeout=120))["message_type"] != "committed_transcript":
                pass
            case.status = 101
            if path == "abrupt_disconnect":
                ws.send(json.dumps({"audio_base_64": audio}))
                ws.socket.close()


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
    # An upstream that fails: present when the audit started the server itself (it adds a
    # provider on a closed port); on an attached server, every configured upstream model.
    listed = client.http.get("/v1/models", headers=headers).json().get("data", [])
    for upstream in [m["id"] for m in listed if not str(m.get("id", "")).startswith("local/")]:
        if upstream.startswith(AUDIT_DEAD_UPSTREAM + "/"):
            case = client.marker(name, "upstream_error")
            _send(
                client,
                case,
                "POST",
                url,
                headers=headers,
                json={**body(case.marker, max_tokens=4), "model": upstream},
            )


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
    Probe(
        "stt.files",
        (("POST", "/v1/speech-to-text"), ("POST", "/v1/audio/transcriptions"), ("POST", "/stt")),
        _stt_files,
    ),
    Probe("stt.realtime", (("WS", "/v1/speech-to-text/realtime"),), _stt_realtime),
    Probe("tts.cartesia", (("POST", "/tts/bytes"), ("POST", "/tts/sse")), _cartesia_tts),
    Probe("llm.openai_chat", (("POST", "/v1/chat/completions"),), _openai_chat),
]
