"""Audit probes for the Inworld surface: TTS in one reply and streamed, and STT in one reply
and over its socket, on every path."""

from __future__ import annotations

import base64
import contextlib
import json
from typing import Any

from websockets.exceptions import ConnectionClosed

from sottovoce.audit.markers import audio_marker_pcm
from sottovoce.audit.probe import Probe, ProbeClient, long_text, marked_wav, sampled_wav
from sottovoce.audit.sockets import drop


def _tts(client: ProbeClient) -> None:
    name = "tts.inworld"
    url = "/tts/v1/voice"
    headers = {"Authorization": f"Basic {base64.b64encode(client.api_key.encode()).decode()}"}

    def body(text: str, **extra: Any) -> dict[str, Any]:
        return {"text": text, "voiceId": "Ashley", "modelId": "inworld-tts-1", **extra}

    for path, suffix, extra in (
        ("success", "", {}),
        ("stream", ":stream", {}),
        ("word_timestamps", "", {"timestampType": "WORD"}),
        ("stream_character_timestamps", ":stream", {"timestampType": "CHARACTER"}),
    ):
        case = client.marker(name, path, retained=True)
        ask = body(f"Hello {case.marker}.", **extra)
        client.send(case, "POST", url + suffix, headers=headers, json=ask)
    case = client.marker(name, "request_enable_logging_false")
    client.send(
        case,
        "POST",
        url,
        headers=headers,
        params={"enable_logging": "false"},
        json=body(f"Hi {case.marker}."),
    )
    case = client.marker(name, "unknown_voice")
    client.send(case, "POST", url, headers=headers, json=body(case.marker, voiceId=case.marker))
    case = client.marker(name, "unknown_model")
    client.send(case, "POST", url, headers=headers, json=body(case.marker, modelId=case.marker))
    case = client.marker(name, "bad_encoding")
    bad = body(case.marker, audioConfig={"audioEncoding": case.marker})
    client.send(case, "POST", url, headers=headers, json=bad)
    case = client.marker(name, "validation_error")
    bad = body(case.marker, audioConfig={"speakingRate": case.marker})
    client.send(case, "POST", url, headers=headers, json=bad)
    case = client.marker(name, "invalid_json")
    broken = f'{{"text": "{case.marker}'.encode()
    client.send(
        case, "POST", url, content=broken, headers={**headers, "content-type": "application/json"}
    )
    case = client.marker(name, "oversized")
    client.send(case, "POST", url, headers=headers, json=body((case.marker + " ") * 100))
    case = client.marker(name, "client_disconnect")
    ask = body(long_text(case.marker), audioConfig={"audioEncoding": "PCM"})
    client.disconnect(case, url + ":stream", headers=headers, json=ask)


def _basic(client: ProbeClient) -> dict[str, str]:
    return {"Authorization": f"Basic {base64.b64encode(client.api_key.encode()).decode()}"}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _stt(client: ProbeClient) -> None:
    name, url = "stt.inworld", "/stt/v1/transcribe"

    def body(audio: bytes, **config: Any) -> dict[str, Any]:
        config = {"modelId": "inworld/inworld-stt-1", **config}
        return {"transcribeConfig": config, "audioData": {"content": _b64(audio)}}

    case = client.marker(name, "raw_samples", audio=True, retained=True)
    raw = body(audio_marker_pcm(case.marker), audioEncoding="LINEAR16", sampleRateHertz=16000)
    client.send(case, "POST", url, headers=_basic(client), json=raw)
    case = client.marker(name, "wav_samples", audio=True, retained=True)
    client.send(case, "POST", url, headers=_basic(client), json=body(sampled_wav(case.marker)))
    case = client.marker(name, "success", retained=True)
    client.send(case, "POST", url, headers=_basic(client), json=body(marked_wav(case.marker)))
    for path, field in (
        ("unknown_model", "modelId"),
        ("bad_encoding", "audioEncoding"),
        ("bad_language", "language"),
    ):
        case = client.marker(name, path)
        value = f"x/{case.marker}" if field == "modelId" else case.marker
        bad = body(marked_wav(case.marker), **{field: value})
        client.send(case, "POST", url, headers=_basic(client), json=bad)
    case = client.marker(name, "not_base64")
    broken = {"audioData": {"content": f"!{case.marker}!"}}
    client.send(case, "POST", url, headers=_basic(client), json=broken)


def _stt_socket(client: ProbeClient) -> None:
    """Audio carrying the marker, an end of turn, then closeStream or a dropped connection; a
    configuration refused (its model id carrying the marker)."""
    from websockets.sync.client import connect

    url = f"{client.ws_url}/stt/v1/transcribe:streamBidirectional"
    for path in ("close_stream", "abrupt_disconnect", "bad_config"):
        case = client.marker("stt.inworld_socket", path)
        config: dict[str, Any] = {"audioEncoding": "LINEAR16", "sampleRateHertz": 16000}
        if path == "bad_config":
            config = {"audioEncoding": "MP3", "modelId": case.marker}
        with (
            connect(url, additional_headers=_basic(client), open_timeout=30) as ws,
            contextlib.suppress(ConnectionClosed, TimeoutError),
        ):
            case.status = 101
            ws.send(json.dumps({"transcribeConfig": config}))
            audio = audio_marker_pcm(case.marker) + marked_wav(case.marker)
            ws.send(json.dumps({"audioChunk": {"content": _b64(audio)}}))
            if path == "abrupt_disconnect":
                drop(ws)
                continue
            ws.send(json.dumps({"endTurn": {}}))
            ws.send(json.dumps({"closeStream": {}}))
            while True:
                ws.recv(timeout=120)


PROBES = (
    Probe("tts.inworld", (("POST", "/tts/v1/voice"), ("POST", "/tts/v1/voice:stream")), _tts),
    Probe("stt.inworld", (("POST", "/stt/v1/transcribe"),), _stt),
    Probe("stt.inworld_socket", (("WS", "/stt/v1/transcribe:streamBidirectional"),), _stt_socket),
)
