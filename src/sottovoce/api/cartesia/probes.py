"""Audit probes for the Cartesia surface: TTS bytes, SSE (with ``save``) and the socket; file
STT."""

from __future__ import annotations

import json
from typing import Any

from sottovoce.audit.probe import (
    Probe,
    ProbeClient,
    corrupt_audio,
    long_text,
    marked_wav,
    stt_file_cases,
)
from sottovoce.audit.sockets import CARTESIA, socket_cases

_RAW = {"container": "raw", "encoding": "pcm_s16le", "sample_rate": 16000}


def _tts(client: ProbeClient) -> None:
    name = "tts.cartesia"
    headers = {**client.bearer, "Cartesia-Version": "2024-11-13"}

    def body(text: str, **extra: Any) -> dict[str, Any]:
        return {
            "model_id": "sonic-2",
            "transcript": text,
            "voice": {"mode": "id", "id": "joe"},
            "output_format": _RAW,
            **extra,
        }

    case = client.marker(name, "bytes", retained=True)
    client.send(case, "POST", "/tts/bytes", headers=headers, json=body(f"Hi {case.marker}."))
    case = client.marker(name, "sse", retained=True)
    client.send(case, "POST", "/tts/sse", headers=headers, json=body(f"Hi {case.marker}."))
    case = client.marker(name, "save", retained=True)
    saved = body(f"Hi {case.marker}.", save=True)
    client.send(case, "POST", "/tts/bytes", headers=headers, json=saved)
    case = client.marker(name, "bad_format")
    bad = {**body(case.marker), "output_format": {"container": case.marker}}
    client.send(case, "POST", "/tts/bytes", headers=headers, json=bad)
    case = client.marker(name, "client_disconnect")
    client.disconnect(case, "/tts/sse", headers=headers, json=body(long_text(case.marker)))


def _clone(client: ProbeClient) -> None:
    """Cloning keeps its samples by nature: refused under ZDR, kept sealed otherwise."""
    case = client.marker("voices.cartesia", "clone", retained=True)
    clip = {"clip": (f"{case.marker}.wav", marked_wav(case.marker), "audio/wav")}
    fields = {"name": case.marker, "description": case.marker, "language": "en"}
    client.send(case, "POST", "/voices/clone", headers=client.bearer, files=clip, data=fields)
    case = client.marker("voices.cartesia", "clone_corrupt_audio")
    clip = {"clip": (f"{case.marker}.wav", corrupt_audio(case.marker), "audio/wav")}
    client.send(case, "POST", "/voices/clone", headers=client.bearer, files=clip,
                data={"name": case.marker, "language": "en"})  # fmt: skip


def _stt(client: ProbeClient) -> None:
    stt_file_cases(client, "cartesia", "/stt", ("model", "ink-whisper"), "language")


def _tts_socket(client: ProbeClient) -> None:
    socket_cases(client, "tts.cartesia_socket", CARTESIA)


def _stt_socket(client: ProbeClient) -> None:
    """A bad command and audio carrying the marker, then a finalize; once closed with
    ``done``, once dropped mid-stream."""
    from websockets.sync.client import connect

    for path in ("done", "abrupt_disconnect"):
        case = client.marker("stt.cartesia_socket", path)
        url = f"{client.ws_url}/stt/websocket?encoding=pcm_s16le&sample_rate=16000"
        with connect(url, additional_headers=client.bearer, open_timeout=30) as ws:
            case.status = 101
            ws.send(case.marker)
            json.loads(ws.recv(timeout=30))
            ws.send(marked_wav(case.marker))
            ws.send("finalize")
            while json.loads(ws.recv(timeout=120))["type"] != "flush_done":
                pass
            if path == "abrupt_disconnect":
                ws.send(marked_wav(case.marker))
                ws.socket.close()
            else:
                ws.send("done")
                while json.loads(ws.recv(timeout=120))["type"] != "done":
                    pass


PROBES = (
    Probe("tts.cartesia", (("POST", "/tts/bytes"), ("POST", "/tts/sse")), _tts),
    Probe("tts.cartesia_socket", (("WS", "/tts/websocket"),), _tts_socket),
    Probe("stt.files", (("POST", "/stt"),), _stt),
    Probe("stt.cartesia_socket", (("WS", "/stt/websocket"),), _stt_socket),
    Probe("voices.cartesia", (("POST", "/voices/clone"),), _clone),
)
