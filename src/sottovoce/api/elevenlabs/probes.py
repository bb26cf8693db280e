"""Audit probes for the ElevenLabs surface: TTS (four routes, two sockets), file STT, the
realtime STT socket, agents' routes and the conversation socket."""

from __future__ import annotations

import base64
import json

from sottovoce.audit.agent_probes import agent_route_cases, elevenlabs_socket_cases
from sottovoce.audit.probe import Probe, ProbeClient, long_text, marked_wav, stt_file_cases
from sottovoce.audit.sockets import ELEVENLABS_MULTI, ELEVENLABS_SINGLE, socket_cases

TTS_ROUTES = (
    ("POST", "/v1/text-to-speech/{voice_id}"),
    ("POST", "/v1/text-to-speech/{voice_id}/stream"),
    ("POST", "/v1/text-to-speech/{voice_id}/with-timestamps"),
    ("POST", "/v1/text-to-speech/{voice_id}/stream/with-timestamps"),
)


def _tts(client: ProbeClient) -> None:
    name = "tts.elevenlabs"
    base = "/v1/text-to-speech/joe"
    for suffix, path in (
        ("", "success"),
        ("/stream", "stream"),
        ("/with-timestamps", "with_timestamps"),
        ("/stream/with-timestamps", "stream_timestamps"),
    ):
        case = client.marker(name, path, retained=True)
        client.send(case, "POST", base + suffix, json={"text": f"Hello {case.marker}."})
    case = client.marker(name, "request_enable_logging_false")
    client.send(
        case, "POST", base, params={"enable_logging": "false"}, json={"text": f"Hi {case.marker}."}
    )
    case = client.marker(name, "unknown_voice")
    client.send(case, "POST", f"/v1/text-to-speech/{case.marker}", json={"text": case.marker})
    case = client.marker(name, "unknown_model")
    client.send(case, "POST", base, json={"text": case.marker, "model_id": case.marker})
    case = client.marker(name, "validation_error")
    bad_speed = {"text": case.marker, "voice_settings": {"speed": case.marker}}
    client.send(case, "POST", base, json=bad_speed)
    case = client.marker(name, "bad_format")
    client.send(
        case, "POST", base, params={"output_format": case.marker}, json={"text": case.marker}
    )
    case = client.marker(name, "invalid_json")
    client.send(
        case,
        "POST",
        base,
        content=f'{{"text": "{case.marker}'.encode(),
        headers={**client.auth, "content-type": "application/json"},
    )
    case = client.marker(name, "oversized")
    client.send(case, "POST", base, json={"text": (case.marker + " ") * 2000})
    case = client.marker(name, "client_disconnect")
    client.disconnect(case, base + "/stream", json={"text": long_text(case.marker)})


def _stt_files(client: ProbeClient) -> None:
    url = "/v1/speech-to-text"
    stt_file_cases(client, "elevenlabs", url, ("model_id", "scribe_v1"), "language_code")
    for style in ("separate", "combined"):
        case = client.marker("stt.files", f"elevenlabs.multi_channel_{style}", retained=True)
        fields = {
            "model_id": "scribe_v1",
            "use_multi_channel": "true",
            "multichannel_output_style": style,
        }
        files = {"file": (f"{case.marker}.wav", marked_wav(case.marker, 2), "audio/wav")}
        client.send(case, "POST", url, files=files, data=fields)


def _stt_realtime(client: ProbeClient) -> None:
    """A malformed message and audio carrying the marker, then a commit; once closed normally,
    once dropped mid-stream."""
    from websockets.sync.client import connect

    for path in ("normal_close", "abrupt_disconnect"):
        case = client.marker("stt.realtime", path)
        url = f"{client.ws_url}/v1/speech-to-text/realtime?xi_api_key={client.api_key}"
        with connect(url, open_timeout=30) as ws:
            json.loads(ws.recv(timeout=30))
            ws.send(json.dumps({"message_type": case.marker, "audio_base_64": case.marker}))
            json.loads(ws.recv(timeout=30))
            audio = base64.b64encode(marked_wav(case.marker)[44:]).decode()
            ws.send(json.dumps({"audio_base_64": audio, "commit": True}))
            while json.loads(ws.recv(timeout=120))["message_type"] != "committed_transcript":
                pass
            case.status = 101
            case.request_id = ws.response.headers.get("request-id") if ws.response else None
            if path == "abrupt_disconnect":
                ws.send(json.dumps({"audio_base_64": audio}))
                ws.socket.close()


def _tts_socket(client: ProbeClient) -> None:
    socket_cases(client, "tts.elevenlabs_socket", ELEVENLABS_SINGLE)


def _tts_multi_socket(client: ProbeClient) -> None:
    socket_cases(client, "tts.elevenlabs_multi_socket", ELEVENLABS_MULTI)


PROBES = (
    Probe("tts.elevenlabs", TTS_ROUTES, _tts),
    Probe(
        "tts.elevenlabs_socket",
        (("WS", "/v1/text-to-speech/{voice_id}/stream-input"),),
        _tts_socket,
    ),
    Probe(
        "tts.elevenlabs_multi_socket",
        (("WS", "/v1/text-to-speech/{voice_id}/multi-stream-input"),),
        _tts_multi_socket,
    ),
    Probe("stt.files", (("POST", "/v1/speech-to-text"),), _stt_files),
    Probe("stt.realtime", (("WS", "/v1/speech-to-text/realtime"),), _stt_realtime),
    Probe(
        "agents.elevenlabs",
        (
            ("POST", "/v1/convai/agents/create"),
            ("PATCH", "/v1/convai/agents/{agent_id}"),
            ("GET", "/v1/convai/agents"),
        ),
        agent_route_cases,
    ),
    Probe(
        "agents.elevenlabs_socket", (("WS", "/v1/convai/conversation"),), elevenlabs_socket_cases
    ),
)
