"""Audit probes for the Deepgram surface: speak over REST and over the socket."""

from __future__ import annotations

from sottovoce.audit.probe import Probe, ProbeClient
from sottovoce.audit.sockets import DEEPGRAM, socket_cases


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


def _speak_socket(client: ProbeClient) -> None:
    socket_cases(client, "tts.deepgram_socket", DEEPGRAM)


PROBES = (
    Probe("tts.deepgram", (("POST", "/v1/speak"),), _speak),
    Probe("tts.deepgram_socket", (("WS", "/v1/speak"),), _speak_socket),
)
