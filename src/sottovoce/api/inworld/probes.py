"""Audit probes for the Inworld surface: TTS in one reply and streamed, on every path."""

from __future__ import annotations

import base64
from typing import Any

from sottovoce.audit.probe import Probe, ProbeClient, long_text


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


PROBES = (
    Probe("tts.inworld", (("POST", "/tts/v1/voice"), ("POST", "/tts/v1/voice:stream")), _tts),
)
