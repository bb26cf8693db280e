"""Audit probes for the Deepgram surface: speak and listen, over REST and over the socket, and
(when the audit has its upstream providers) the same through an upstream provider and a dead
one."""

from __future__ import annotations

import contextlib
import json

from websockets.exceptions import ConnectionClosed

from sottovoce.audit.markers import audio_marker_pcm
from sottovoce.audit.probe import (
    AUDIT_DEAD_UPSTREAM,
    AUDIT_UPSTREAM,
    UPSTREAM_STT,
    UPSTREAM_TTS,
    Probe,
    ProbeClient,
    marked_wav,
)
from sottovoce.audit.sockets import DEEPGRAM, live_stt_cases, socket_cases

RAW = {"encoding": "linear16", "sample_rate": "16000"}


def _speak(client: ProbeClient) -> None:
    name = "tts.deepgram"
    headers = {"Authorization": f"Token {client.api_key}"}
    url = "/v1/speak"
    case = client.marker(name, "success", retained=True)
    client.send(case, "POST", url, headers=headers, json={"text": f"Hello {case.marker}."})
    case = client.marker(name, "request_enable_logging_false")
    client.send(
        case,
        "POST",
        url,
        headers=headers,
        params={"enable_logging": "false"},
        json={"text": f"Hi {case.marker}."},
    )
    case = client.marker(name, "unknown_voice")
    params = {"model": f"aura-2-{case.marker}-en"}
    client.send(case, "POST", url, headers=headers, params=params, json={"text": case.marker})
    case = client.marker(name, "invalid_json")
    broken = f'{{"text": "{case.marker}'.encode()
    client.send(
        case, "POST", url, content=broken, headers={**headers, "content-type": "application/json"}
    )
    if client.upstream:
        case = client.marker(name, "upstream", retained=True)
        params = {"model": f"{AUDIT_UPSTREAM}/{UPSTREAM_TTS}"}
        client.send(case, "POST", url, headers=headers, params=params, json={"text": case.marker})
        case = client.marker(name, "upstream_error")
        params = {"model": f"{AUDIT_DEAD_UPSTREAM}/{UPSTREAM_TTS}"}
        client.send(case, "POST", url, headers=headers, params=params, json={"text": case.marker})


def _speak_socket(client: ProbeClient) -> None:
    socket_cases(client, "tts.deepgram_socket", DEEPGRAM)
    if client.upstream:
        from websockets.sync.client import connect

        case = client.marker("tts.deepgram_socket", "upstream", retained=True)
        query = f"model={AUDIT_UPSTREAM}/{UPSTREAM_TTS}&encoding=linear16"
        headers = {"Authorization": f"Token {client.api_key}"}
        with connect(f"{client.ws_url}/v1/speak?{query}", additional_headers=headers) as ws:
            case.status = 101
            ws.recv(timeout=30)
            ws.send(json.dumps({"type": "Speak", "text": f"Hello {case.marker}."}))
            ws.send(json.dumps({"type": "Flush"}))
            with contextlib.suppress(ConnectionClosed):
                while isinstance(ws.recv(timeout=120), bytes):
                    pass  # the audio, then Flushed
                ws.send(json.dumps({"type": "Close"}))


def _listen(client: ProbeClient) -> None:
    """File transcription: the marker in the audio (its metadata, or its samples), the query,
    a corrupt file; upstream, through the audit's provider and a dead one."""
    name, url = "stt.deepgram", "/v1/listen"
    headers = {"Authorization": f"Token {client.api_key}"}
    case = client.marker(name, "raw_samples", audio=True, retained=True)
    client.send(
        case, "POST", url, headers=headers, params=RAW, content=audio_marker_pcm(case.marker)
    )
    case = client.marker(name, "success", retained=True)
    client.send(case, "POST", url, headers=headers, content=marked_wav(case.marker))
    case = client.marker(name, "request_enable_logging_false")
    params = {"enable_logging": "false"}
    client.send(case, "POST", url, headers=headers, params=params, content=marked_wav(case.marker))
    for path, query in (("unknown_model", "model"), ("bad_language", "language")):
        case = client.marker(name, path)
        value = f"x/{case.marker}" if query == "model" else case.marker
        content = marked_wav(case.marker)
        client.send(case, "POST", url, headers=headers, params={query: value}, content=content)
    case = client.marker(name, "corrupt_audio")
    client.send(
        case, "POST", url, headers=headers, content=b"\0not audio " + case.marker.encode() * 50
    )
    if client.upstream:
        for path, provider in (
            ("upstream", AUDIT_UPSTREAM),
            ("upstream_error", AUDIT_DEAD_UPSTREAM),
        ):
            case = client.marker(name, path, audio=True, retained=path == "upstream")
            params = {**RAW, "model": f"{provider}/{UPSTREAM_STT}"}
            pcm = audio_marker_pcm(case.marker)
            client.send(case, "POST", url, headers=headers, params=params, content=pcm)


def _listen_socket(client: ProbeClient) -> None:
    """Live transcription: audio carrying the marker, a Finalize, then the end (CloseStream, or
    a dropped connection); an unknown message carrying the marker; upstream too."""
    upstream: list[tuple[str, str]] = []
    if client.upstream:
        upstream = [
            ("upstream", f"&model={AUDIT_UPSTREAM}/{UPSTREAM_STT}"),
            ("upstream_error", f"&model={AUDIT_DEAD_UPSTREAM}/{UPSTREAM_STT}"),
        ]
    end = [{"type": "Finalize"}, {"type": "CloseStream"}]
    url = f"{client.ws_url}/v1/listen?encoding=linear16&sample_rate=16000"
    headers = {"Authorization": f"Token {client.api_key}"}
    live_stt_cases(client, "stt.deepgram_socket", url, headers, ("close_stream", end), upstream)


PROBES = (
    Probe("tts.deepgram", (("POST", "/v1/speak"),), _speak),
    Probe("tts.deepgram_socket", (("WS", "/v1/speak"),), _speak_socket),
    Probe("stt.deepgram", (("POST", "/v1/listen"),), _listen),
    Probe("stt.deepgram_socket", (("WS", "/v1/listen"),), _listen_socket),
)
