"""Audit probes for the AssemblyAI surface: the async API (upload, transcript, poll, delete) and
the v3 socket, on their success and failure paths."""

from __future__ import annotations

import time
from typing import Any

from sottovoce.audit.probe import Case, Probe, ProbeClient, marked_wav, sampled_wav
from sottovoce.audit.sockets import live_stt_cases


def _upload(client: ProbeClient, case: Case, audio: bytes) -> str:
    reply = client.http.post("/v2/upload", headers={"Authorization": client.api_key}, content=audio)
    case.status, case.request_id = reply.status_code, reply.headers.get("request-id")
    return str(reply.json().get("upload_url") or "") if reply.status_code == 200 else ""


def _transcript(client: ProbeClient, case: Case, body: dict[str, Any]) -> None:
    """Ask for a transcript, then wait for it to be done (the audit searches after that)."""
    headers = {"Authorization": client.api_key}
    reply = client.http.post("/v2/transcript", headers=headers, json=body)
    case.status, case.request_id = reply.status_code, reply.headers.get("request-id")
    if reply.status_code != 200:
        return
    url = f"/v2/transcript/{reply.json()['id']}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        polled = client.http.get(url, headers=headers)
        if polled.status_code != 200 or polled.json()["status"] in ("completed", "error"):
            return
        time.sleep(0.1)


def _async(client: ProbeClient) -> None:
    name = "stt.assemblyai"
    for path, audio in (("raw_samples", sampled_wav), ("success", marked_wav)):
        case = client.marker(name, path, audio=path == "raw_samples", retained=True)
        if url := _upload(client, case, audio(case.marker)):
            _transcript(client, case, {"audio_url": url, "speaker_labels": True})
    case = client.marker(name, "corrupt_audio")
    if url := _upload(client, case, b"\0not audio " + case.marker.encode() * 50):
        _transcript(client, case, {"audio_url": url})
    for path, field in (("unknown_model", "speech_model"), ("bad_language", "language_code")):
        case = client.marker(name, path)
        if url := _upload(client, case, marked_wav(case.marker)):
            value = f"x/{case.marker}" if field == "speech_model" else case.marker
            _transcript(client, case, {"audio_url": url, field: value})
    case = client.marker(name, "foreign_url")
    _transcript(client, case, {"audio_url": f"https://{case.marker}.example/call.wav"})


def _streaming(client: ProbeClient) -> None:
    """Audio carrying the marker, a forced end of turn, then Terminate or a dropped connection;
    an unknown message carrying the marker."""
    end = [{"type": "ForceEndpoint"}, {"type": "Terminate"}]
    url = f"{client.ws_url}/v3/ws?sample_rate=16000&encoding=pcm_s16le"
    headers = {"Authorization": client.api_key}
    live_stt_cases(client, "stt.assemblyai_socket", url, headers, ("terminate", end))


PROBES = (
    Probe("stt.assemblyai", (("POST", "/v2/upload"), ("POST", "/v2/transcript")), _async),
    Probe("stt.assemblyai_socket", (("WS", "/v3/ws"),), _streaming),
)
