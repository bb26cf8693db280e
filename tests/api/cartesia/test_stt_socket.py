"""Cartesia's streaming STT socket through the official SDK (``stt.manual_finalize``): binary
audio in, transcripts out, ``finalize``/``flush_done`` and ``done``; and the canaries (under ZDR
neither the words heard nor a bad command's text leave a trace)."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
from cartesia import Cartesia
from websockets.sync.client import connect

from tests.harness import Creds, RunningServer
from tests.spoken import join, random_phrase, resample, silence, speak, words_of

SENTENCE = "Please bring the blue jacket to the garden party tomorrow."
LEGACY: Any = {"legacy": True}  # the SDK connects outside a with-block (websockets 17 warns)


def pcm16k(text: str) -> bytes:
    clip = speak(text)
    pad = silence(0.3, clip.rate)
    return resample(join(pad, clip, pad), 16000).astype("<i2").tobytes()


def chunks(pcm: bytes, seconds: float = 0.2) -> list[bytes]:
    step = int(16000 * 2 * seconds)
    return [pcm[i : i + step] for i in range(0, len(pcm), step)]


def test_the_sdk_streams_audio_and_gets_the_final_transcript(
    server: RunningServer, workspace: Creds
) -> None:
    client = Cartesia(
        api_key=workspace.api_key, base_url=server.url, websocket_base_url=server.ws_url
    )
    stt = client.stt.manual_finalize.websocket(
        encoding="pcm_s16le", model="ink-whisper", sample_rate=16000, language="en",
        websocket_connection_options=LEGACY,
    )  # fmt: skip
    with stt as ws:
        for piece in chunks(pcm16k(SENTENCE)):
            ws.send_raw(piece)
        ws.send("finalize")
        finals: list[str] = []
        while (event := ws.recv()).type != "flush_done":
            if event.type == "transcript" and event.is_final:
                finals.append(event.text)
                assert event.words and event.words[0].start < event.words[-1].end
        ws.send("done")
        while ws.recv().type != "done":
            pass
    assert words_of(" ".join(finals)) == words_of(SENTENCE)


def session(server: RunningServer, creds: Creds, canary: str, ending: str) -> str:
    """One session, ending cleanly or by a dropped connection; returns what was heard."""
    phrase = ", ".join(random_phrase(5)).capitalize() + "."
    url = f"{server.ws_url}/stt/websocket?encoding=pcm_s16le&sample_rate=16000"
    heard: list[str] = []
    with connect(url, additional_headers={"X-API-Key": creds.api_key}, open_timeout=30) as ws:
        ws.send(f"say {canary}")  # an unknown command carrying the canary
        error = str(ws.recv(timeout=30))
        assert json.loads(error)["type"] == "error" and canary not in error
        ws.send(pcm16k(phrase))
        ws.send("finalize")
        while (event := json.loads(ws.recv(timeout=120)))["type"] != "flush_done":
            if event["type"] == "transcript" and event["is_final"]:
                heard.append(event["text"])
        if ending == "abrupt":
            ws.send(pcm16k(phrase))
            ws.socket.close()
        else:
            ws.send("done")
            while json.loads(ws.recv(timeout=60))["type"] != "done":
                pass
    return " ".join(heard)


def stt_records(server: RunningServer, creds: Creds, count: int = 1) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        records = httpx.get(
            f"{server.url}/v1/usage",
            headers={"xi-api-key": creds.api_key},
            params={"product": "stt"},
        ).json()["records"]
        if len(records) >= count:
            return list(records)
        time.sleep(0.2)
    raise AssertionError("no STT usage record")


def test_under_zdr_nothing_heard_is_kept_even_when_dropped(
    server: RunningServer, zdr_workspace: Creds, canary: str
) -> None:
    heard = [session(server, zdr_workspace, canary, ending) for ending in ("done", "abrupt")]
    records = stt_records(server, zdr_workspace, count=2)
    assert all(len(words_of(text)) >= 3 for text in heard)
    server.store.checkpoint()
    assert server.find_marker(canary) == []
    assert all(server.find_marker(text) == [] for text in heard)
    assert all(r["zero_retention"] and r["input_units"] > 1 for r in records)


def test_without_zdr_the_transcript_is_kept(
    server: RunningServer, workspace: Creds, canary: str
) -> None:
    text = session(server, workspace, canary, "done")
    stt_records(server, workspace)
    server.store.checkpoint()
    assert server.find_marker(text)  # the negative control
    assert server.find_marker(canary) == []
