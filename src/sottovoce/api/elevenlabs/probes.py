"""Audit probes for the ElevenLabs surface: TTS (four routes, two sockets), file STT, the
realtime STT socket, agents' routes and the conversation socket."""

from __future__ import annotations

import base64
import json

from sottovoce.audit.agent_probes import agent_route_cases, elevenlabs_socket_cases
from sottovoce.audit.probe import (
    Probe,
    ProbeClient,
    corrupt_audio,
    long_text,
    marked_wav,
    sampled_wav,
    stt_file_cases,
)
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


DIALOGUE_ROUTES = (
    ("POST", "/v1/text-to-dialogue"),
    ("POST", "/v1/text-to-dialogue/stream"),
    ("POST", "/v1/text-to-dialogue/with-timestamps"),
    ("POST", "/v1/text-to-dialogue/stream/with-timestamps"),
)


def _dialogue(client: ProbeClient) -> None:
    name = "dialogue"
    url = "/v1/text-to-dialogue"

    def turns(marker: str, second: str = "heart") -> dict[str, object]:
        return {"inputs": [{"text": f"Hello {marker}.", "voice_id": "joe"},
                           {"text": f"Hi {marker}.", "voice_id": second}]}  # fmt: skip

    for suffix, path in (
        ("", "success"),
        ("/stream", "stream"),
        ("/with-timestamps", "with_timestamps"),
        ("/stream/with-timestamps", "stream_timestamps"),
    ):
        case = client.marker(name, path, retained=True)
        client.send(case, "POST", url + suffix, json=turns(case.marker))
    case = client.marker(name, "request_enable_logging_false")
    client.send(case, "POST", url, params={"enable_logging": "false"}, json=turns(case.marker))
    case = client.marker(name, "unknown_voice")
    client.send(case, "POST", url, json=turns(case.marker, second=case.marker))
    case = client.marker(name, "too_many_inputs")
    many = {"inputs": [{"text": f"{case.marker} {i}", "voice_id": "joe"} for i in range(999)]}
    client.send(case, "POST", url, json=many)
    case = client.marker(name, "empty_text")
    empty = {"inputs": [{"text": case.marker, "voice_id": "joe"}, {"text": " ", "voice_id": "joe"}]}
    client.send(case, "POST", url, json=empty)
    case = client.marker(name, "bad_format")
    client.send(case, "POST", url, params={"output_format": case.marker}, json=turns(case.marker))
    case = client.marker(name, "client_disconnect")
    long = {"inputs": [{"text": long_text(case.marker), "voice_id": "joe"}]}
    client.disconnect(case, url + "/stream", json=long)


STS_ROUTES = (
    ("POST", "/v1/speech-to-speech/{voice_id}"),
    ("POST", "/v1/speech-to-speech/{voice_id}/stream"),
    ("POST", "/v1/voice-changer/{voice_id}"),
    ("POST", "/v1/voice-changer/{voice_id}/stream"),
)


def _sts(client: ProbeClient) -> None:
    """The marker rides in the recording (metadata, file name, raw samples) and the form. The
    recording is never kept, even with retention on (only the transcript and the output)."""
    name = "sts"
    for url, path in (
        ("/v1/speech-to-speech/joe", "success"),
        ("/v1/speech-to-speech/joe/stream", "stream"),
        ("/v1/voice-changer/joe", "sdk_path"),
        ("/v1/voice-changer/joe/stream", "sdk_path_stream"),
    ):
        case = client.marker(name, path)
        upload = {"audio": (f"{case.marker}.wav", marked_wav(case.marker), "audio/wav")}
        fields = {"model_id": "eleven_english_sts_v2", "seed": case.marker}
        client.send(case, "POST", url, files=upload, data=fields)
    case = client.marker(name, "raw_samples", audio=True)
    upload = {"audio": ("speech.wav", sampled_wav(case.marker), "audio/wav")}
    client.send(case, "POST", "/v1/speech-to-speech/heart", files=upload)
    case = client.marker(name, "request_enable_logging_false")
    upload = {"audio": (f"{case.marker}.wav", marked_wav(case.marker), "audio/wav")}
    client.send(case, "POST", "/v1/speech-to-speech/joe", files=upload,
                params={"enable_logging": "false"})  # fmt: skip
    case = client.marker(name, "corrupt_audio")
    upload = {"audio": (f"{case.marker}.wav", corrupt_audio(case.marker), "audio/wav")}
    client.send(case, "POST", "/v1/speech-to-speech/joe", files=upload)
    case = client.marker(name, "unknown_voice")
    upload = {"audio": (f"{case.marker}.wav", marked_wav(case.marker), "audio/wav")}
    client.send(case, "POST", f"/v1/speech-to-speech/{case.marker}", files=upload)
    case = client.marker(name, "bad_file_format")
    upload = {"audio": (f"{case.marker}.wav", marked_wav(case.marker), "audio/wav")}
    client.send(case, "POST", "/v1/speech-to-speech/joe", files=upload,
                data={"file_format": case.marker})  # fmt: skip


DESIGNED = "gv_WzAuMDUsIFswLjI1LCAwLjI1LCAwLjI1LCAwLjI1XSwgMS4wXQ=="
"""A preview id of a designed voice (its numbers, base64: a female blend at normal pace)."""


def _voices(client: ProbeClient) -> None:
    """Cloning and design keep their material by nature: refused under ZDR; with retention on,
    kept sealed with the voice (found by the negative control in the decrypted voices)."""
    name = "voices"
    case = client.marker(name, "add", audio=True, retained=True)
    files = [
        ("files", (f"{case.marker}.wav", marked_wav(case.marker), "audio/wav")),
        ("files", ("b.wav", sampled_wav(case.marker), "audio/wav")),
    ]
    labels = f'{{"x": "{case.marker}"}}'
    fields = {"name": case.marker, "description": case.marker, "labels": labels}
    client.send(case, "POST", "/v1/voices/add", files=files, data=fields)
    case = client.marker(name, "add_corrupt_audio")
    files = [("files", (f"{case.marker}.wav", corrupt_audio(case.marker), "audio/wav"))]
    client.send(case, "POST", "/v1/voices/add", files=files, data={"name": case.marker})
    case = client.marker(name, "add_enable_logging_false")
    files = [("files", (f"{case.marker}.wav", marked_wav(case.marker), "audio/wav"))]
    client.send(case, "POST", "/v1/voices/add", files=files, data={"name": case.marker},
                params={"enable_logging": "false"})  # fmt: skip
    case = client.marker(name, "design")
    # The marker in the description only: spelled out, it would make long previews.
    body = {"voice_description": f"A calm woman {case.marker}", "text": "Hi."}
    client.send(case, "POST", "/v1/text-to-voice/design", json=body)
    case = client.marker(name, "design_empty_description")
    client.send(case, "POST", "/v1/text-to-voice/design",
                json={"voice_description": " ", "text": case.marker})  # fmt: skip
    case = client.marker(name, "save_designed", retained=True)
    body = {"voice_name": case.marker, "voice_description": case.marker,
            "generated_voice_id": DESIGNED}  # fmt: skip
    client.send(case, "POST", "/v1/text-to-voice", json=body)
    case = client.marker(name, "save_unknown_preview")
    body = {"voice_name": case.marker, "voice_description": case.marker,
            "generated_voice_id": case.marker}  # fmt: skip
    client.send(case, "POST", "/v1/text-to-voice", json=body)


def _history_download(client: ProbeClient) -> None:
    # The body names items, but a client may put anything in it: an id, a format, broken JSON.
    name, url = "history.download", "/v1/history/download"
    case = client.marker(name, "unknown_id")
    client.send(case, "POST", url, json={"history_item_ids": [case.marker]})
    case = client.marker(name, "validation_error")
    client.send(case, "POST", url, json={"history_item_ids": ["x"], "output_format": case.marker})
    case = client.marker(name, "invalid_json")
    broken = f'{{"history_item_ids": ["{case.marker}"'.encode()
    client.send(case, "POST", url, content=broken, headers={**client.auth, **JSON})


JSON = {"Content-Type": "application/json"}

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
    Probe("dialogue", DIALOGUE_ROUTES, _dialogue),
    Probe("sts", STS_ROUTES, _sts),
    Probe(
        "voices",
        (
            ("POST", "/v1/voices/add"),
            ("POST", "/v1/text-to-voice/design"),
            ("POST", "/v1/text-to-voice"),
        ),
        _voices,
    ),
    Probe("stt.files", (("POST", "/v1/speech-to-text"),), _stt_files),
    Probe("history.download", (("POST", "/v1/history/download"),), _history_download),
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
