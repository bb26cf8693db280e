"""OpenAI speech through its SDK and raw HTTP, against a real server."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from openai import OpenAI

from tests.api.tts_audio import assert_speech, decode, pcm16
from tests.harness import Creds, RunningServer

FOX = "The quick brown fox jumps over the lazy dog."


@pytest.mark.parametrize(
    ("response_format", "codec"),
    [("mp3", "mp3float"), ("opus", "opus"), ("aac", "aac"), ("flac", "flac"), ("wav", "pcm_s16le")],
)
def test_openai_speech_formats(openai_client: OpenAI, response_format: str, codec: str) -> None:
    reply = openai_client.audio.speech.create(
        model="tts-1",
        voice="alloy",
        input=FOX,
        response_format=response_format,  # type: ignore[arg-type]
    )
    name, rate, samples = decode(reply.content)
    assert name == codec
    assert rate == (48000 if codec == "opus" else 24000)
    assert_speech(samples, rate, FOX)


def test_openai_streaming_pcm_and_speed(openai_client: OpenAI) -> None:
    with openai_client.audio.speech.with_streaming_response.create(
        model="gpt-4o-mini-tts", voice="nova", input=FOX, response_format="pcm", speed=1.5
    ) as reply:
        chunks = list(reply.iter_bytes())
    audio = pcm16(b"".join(chunks))
    assert len(audio) / 24000 < len(FOX) / 14
    assert_speech(audio, 24000, FOX)


def test_openai_sse_stream(server: RunningServer, creds: Creds) -> None:
    reply = httpx.post(
        f"{server.url}/v1/audio/speech",
        json={"model": "tts-1", "input": FOX, "voice": "alloy", "stream_format": "sse",
              "response_format": "pcm"},
        headers={"authorization": f"Bearer {creds.api_key}"},
        timeout=60,
    )  # fmt: skip
    events = [json.loads(line[6:]) for line in reply.text.splitlines() if line.startswith("data:")]
    assert events[-1]["type"] == "speech.audio.done"
    audio = b"".join(base64.b64decode(e["audio"]) for e in events[:-1])
    assert {e["type"] for e in events[:-1]} == {"speech.audio.delta"}
    assert_speech(pcm16(audio), 24000, FOX)


def test_openai_models_list_uses_openai_shape(openai_client: OpenAI) -> None:
    ids = [m.id for m in openai_client.models.list()]
    assert "local/piper" in ids


def test_openai_errors_are_json_the_sdk_reads(openai_client: OpenAI) -> None:
    import openai

    with pytest.raises(openai.UnprocessableEntityError) as info:
        openai_client.audio.speech.create(
            model="tts-1",
            voice="alloy",
            input="x",
            response_format="ogg",  # type: ignore[arg-type]
        )
    assert info.value.code == "invalid_request"
    assert info.value.body["fields"] == ["response_format"]  # type: ignore[index]
    with pytest.raises(openai.NotFoundError):
        openai_client.audio.speech.create(model="no-such-model", voice="alloy", input="x")
