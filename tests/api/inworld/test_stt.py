"""Inworld speech-to-text: ``POST /stt/v1/transcribe`` (a WAV or raw LINEAR16, base64 in JSON)
and its bidirectional socket, known speech in, its words out; Inworld's router model ids; the
gRPC error shape; a JSON body limited as an upload, not as JSON; nothing kept under ZDR."""

from __future__ import annotations

import base64
import json

import httpx
from websockets.sync.client import connect

from tests.api.deepgram.test_listen import pcm16k
from tests.harness import Creds, RunningServer
from tests.spoken import pcm_wav, word_edits, words_of

FOX = "The quick brown fox jumps over the lazy dog."
SOCKET = "/stt/v1/transcribe:streamBidirectional"


def basic(creds: Creds) -> dict[str, str]:
    return {"Authorization": f"Basic {creds.api_key}"}


def transcribe(
    server: RunningServer, creds: Creds, audio: bytes, **config: object
) -> httpx.Response:
    body = {
        "transcribeConfig": {"modelId": "inworld/inworld-stt-1", "language": "en-US", **config},
        "audioData": {"content": base64.b64encode(audio).decode()},
    }
    return httpx.post(
        f"{server.url}/stt/v1/transcribe", headers=basic(creds), json=body, timeout=120
    )


def test_a_wav_and_raw_linear16_are_transcribed(server: RunningServer, workspace: Creds) -> None:
    for audio, config in (
        (pcm_wav(pcm16k(FOX)), {"audioEncoding": "AUTO_DETECT"}),
        (pcm16k(FOX), {"audioEncoding": "LINEAR16", "sampleRateHertz": 16000}),
    ):
        reply = transcribe(server, workspace, audio, **config)
        assert reply.status_code == 200, reply.text
        transcription = reply.json()["transcription"]
        assert transcription["isFinal"] is True
        assert word_edits(words_of(FOX), words_of(transcription["transcript"])) <= 1
        assert transcription["wordTimestamps"][0]["word"] == "The"
        assert 2500 < reply.json()["usage"]["transcribedAudioMs"] < 4500


def test_router_model_ids_and_the_grpc_error_shape(server: RunningServer, workspace: Creds) -> None:
    # groq/whisper-large-v3 is routed to a provider called groq: this server has none.
    missing = transcribe(server, workspace, pcm16k("Hi."), modelId="groq/whisper-large-v3")
    assert missing.status_code == 404
    assert (missing.json()["code"], missing.json()["details"][0]["reason"]) == (
        5,
        "model_not_found",
    )
    bad = transcribe(server, workspace, pcm16k("Hi."), audioEncoding="AMR")
    assert (bad.status_code, bad.json()["code"]) == (422, 3)


def test_an_audio_body_is_limited_as_an_upload_not_as_json(limits_server: RunningServer) -> None:
    """The limits server takes JSON bodies of 1 KB; a recording in JSON is an upload."""
    creds = limits_server.create_workspace("w")
    reply = transcribe(limits_server, creds, pcm16k("Hi."), audioEncoding="LINEAR16")
    assert reply.status_code == 200, reply.text


def test_the_socket_gives_interim_and_final_results_then_usage(
    server: RunningServer, workspace: Creds
) -> None:
    audio = pcm16k(FOX)
    with connect(f"{server.ws_url}{SOCKET}", additional_headers=basic(workspace)) as ws:
        config = {"modelId": "inworld/inworld-stt-1", "audioEncoding": "LINEAR16"}
        ws.send(json.dumps({"transcribeConfig": {**config, "sampleRateHertz": 16000}}))
        for start in range(0, len(audio), 6400):
            chunk = base64.b64encode(audio[start : start + 6400]).decode()
            ws.send(json.dumps({"audioChunk": {"content": chunk}}))
        ws.send(json.dumps({"endTurn": {}}))
        ws.send(json.dumps({"closeStream": {}}))
        results = []
        while "usage" not in (result := json.loads(ws.recv(timeout=120))["result"]):
            results.append(result["transcription"])
        ws.recv_events_thread.join(30)
        assert ws.protocol.close_rcvd is not None and ws.protocol.close_rcvd.code == 1000
    final = " ".join(r["transcript"] for r in results if r["isFinal"])
    assert word_edits(words_of(FOX), words_of(final)) <= 1, final
    assert result["usage"]["transcribedAudioMs"] > 2500


def test_socket_errors_and_zero_retention(
    server: RunningServer, zdr_workspace: Creds, canary: str
) -> None:
    with connect(f"{server.ws_url}{SOCKET}", additional_headers=basic(zdr_workspace)) as ws:
        ws.send(json.dumps({"transcribeConfig": {"audioEncoding": "MP3", "modelId": canary}}))
        error = json.loads(ws.recv(timeout=30))["error"]
        assert (error["code"], error["details"][0]["reason"]) == (3, "invalid_request")
        assert canary not in json.dumps(error)
    reply = transcribe(server, zdr_workspace, pcm16k(FOX), audioEncoding="LINEAR16")
    assert reply.status_code == 200
    server.wait_for_usage(zdr_workspace.workspace_id, 2, "stt")
    kept = httpx.get(f"{server.url}/v1/history", headers=basic(zdr_workspace)).json()
    assert kept["history"] == []
    assert server.find_marker(canary) == []
