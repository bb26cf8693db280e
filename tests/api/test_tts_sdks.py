"""The TTS surfaces through the vendors' own SDKs and raw HTTP, against a real server."""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import Iterator

import httpx
import numpy as np
import pytest
from cartesia import Cartesia
from elevenlabs.client import ElevenLabs
from openai import OpenAI

from tests.api.tts_audio import assert_speech, decode, pcm16
from tests.harness import Creds, RunningServer

FOX = "The quick brown fox jumps over the lazy dog."


@pytest.fixture(scope="module")
def creds(server: RunningServer) -> Creds:
    return server.create_workspace("sdk")


@pytest.fixture(scope="module")
def eleven(server: RunningServer, creds: Creds) -> Iterator[ElevenLabs]:
    with httpx.Client(timeout=60) as http:
        yield ElevenLabs(api_key=creds.api_key, base_url=server.url, httpx_client=http)


@pytest.fixture(scope="module")
def openai_client(server: RunningServer, creds: Creds) -> Iterator[OpenAI]:
    with OpenAI(api_key=creds.api_key, base_url=f"{server.url}/v1", max_retries=0) as client:
        yield client


@pytest.fixture(scope="module")
def cartesia(server: RunningServer, creds: Creds) -> Iterator[Cartesia]:
    with Cartesia(api_key=creds.api_key, base_url=server.url, max_retries=0) as client:
        yield client


# ElevenLabs ------------------------------------------------------------------------------


def test_elevenlabs_convert_pcm(eleven: ElevenLabs) -> None:
    audio = b"".join(
        eleven.text_to_speech.convert(
            "JBFqnCBsd6RMkjVDRZzb",
            text=FOX,
            model_id="eleven_multilingual_v2",
            output_format="pcm_16000",
        )
    )
    assert_speech(pcm16(audio), 16000, FOX)


def test_elevenlabs_stream_mp3(eleven: ElevenLabs) -> None:
    chunks = list(eleven.text_to_speech.stream("joe", text=FOX, output_format="mp3_44100_128"))
    codec, rate, samples = decode(b"".join(chunks))
    assert (codec, rate) == ("mp3float", 44100)
    assert_speech(samples, rate, FOX)


def test_elevenlabs_speed_setting_shortens_the_audio(eleven: ElevenLabs) -> None:
    def seconds(speed: float) -> float:
        audio = b"".join(
            eleven.text_to_speech.convert(
                "joe",
                text="Speed matters here.",
                output_format="pcm_22050",
                voice_settings={"speed": speed},  # type: ignore[arg-type]
            )
        )
        return len(audio) / 2 / 22050

    # Piper's durations carry a little randomness: compare ends of the range, not neighbours.
    assert seconds(1.2) < 0.8 * seconds(0.7)


def test_elevenlabs_with_timestamps_aligns_every_character(eleven: ElevenLabs) -> None:
    text = "Hello there, my friend."
    reply = eleven.text_to_speech.convert_with_timestamps(
        "joe", text=text, output_format="wav_22050"
    )
    wav = base64.b64decode(reply.audio_base_64)
    assert struct.unpack("<I", wav[40:44])[0] == len(wav) - 44
    _codec, rate, samples = decode(wav)
    assert rate == 22050
    assert reply.alignment is not None
    assert "".join(reply.alignment.characters) == text
    starts = reply.alignment.character_start_times_seconds
    ends = reply.alignment.character_end_times_seconds
    assert starts == sorted(starts)
    assert all(s <= e for s, e in zip(starts, ends, strict=True))
    assert ends[-1] <= len(samples) / rate + 1e-3
    assert ends[-1] > 0.7 * len(samples) / rate


def test_elevenlabs_stream_with_timestamps(eleven: ElevenLabs) -> None:
    text = "First sentence here. And a second one."
    pieces = list(
        eleven.text_to_speech.stream_with_timestamps("joe", text=text, output_format="pcm_22050")
    )
    assert len(pieces) >= 2
    audio = b"".join(base64.b64decode(p.audio_base_64) for p in pieces if p.audio_base_64)
    chars = [c for p in pieces if p.alignment for c in p.alignment.characters]
    assert "".join(chars) == text
    starts = [s for p in pieces if p.alignment for s in p.alignment.character_start_times_seconds]
    assert starts == sorted(starts)
    assert starts[-1] < len(audio) / 2 / 22050
    assert_speech(pcm16(audio), 22050, text)


def test_elevenlabs_ulaw_is_8khz_telephony(server: RunningServer, creds: Creds) -> None:
    reply = httpx.post(
        f"{server.url}/v1/text-to-speech/joe/stream?output_format=ulaw_8000",
        json={"text": FOX},
        headers={"xi-api-key": creds.api_key},
        timeout=60,
    )
    assert reply.status_code == 200
    from sottovoce.audio.g711 import mulaw_decode

    samples = mulaw_decode(np.frombuffer(reply.content, np.uint8)).astype(np.float64)
    assert_speech(samples, 8000, FOX)


def test_elevenlabs_voices_and_models(eleven: ElevenLabs) -> None:
    voices = eleven.voices.get_all().voices
    ids = [v.voice_id for v in voices]
    assert ids[:2] == ["piperJoeEnUsMedium01", "hibariHeartEnUs01"]
    first = eleven.voices.search(page_size=2)
    assert first.total_count == len(ids) and first.has_more
    rest = eleven.voices.search(page_size=10, next_page_token=first.next_page_token)
    assert [v.voice_id for v in first.voices + rest.voices] == ids
    assert eleven.voices.get("piperJoeEnUsMedium01").name == "Joe"
    models = {m.model_id for m in eleven.models.list() if m.can_do_text_to_speech}
    assert {"local/piper", "local/hibari", "local/kokoro"} <= models


# OpenAI ----------------------------------------------------------------------------------


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


# Cartesia --------------------------------------------------------------------------------


def test_cartesia_bytes_wav(cartesia: Cartesia) -> None:
    reply = cartesia.tts.generate(
        model_id="sonic-2",
        transcript=FOX,
        voice={"mode": "id", "id": "a0e99841-438c-4a64-b679-ae501e7d6091"},
        output_format={"container": "wav", "encoding": "pcm_s16le", "sample_rate": 44100},
    )
    codec, rate, samples = decode(reply.read())
    assert (codec, rate) == ("pcm_s16le", 44100)
    assert_speech(samples, rate, FOX)


def test_cartesia_sse_raw_float_with_timestamps(cartesia: Cartesia) -> None:
    events = list(
        cartesia.tts.generate_sse(
            model_id="sonic-3",
            transcript=FOX,
            voice={"mode": "id", "id": "joe"},
            output_format={"container": "raw", "encoding": "pcm_f32le", "sample_rate": 16000},
            add_timestamps=True,
        )
    )
    kinds = [e.type for e in events]
    assert kinds[-1] == "done"
    audio = b"".join(e.audio or b"" for e in events if e.type == "chunk")
    samples = np.frombuffer(audio, "<f4").astype(np.float64)
    assert np.abs(samples).max() <= 1.0
    assert_speech(samples, 16000, FOX)
    words = [w for e in events if e.type == "timestamps" for w in e.word_timestamps.words]
    assert " ".join(words) == FOX


def test_cartesia_voices_paging_and_get(cartesia: Cartesia, server: RunningServer) -> None:
    voices = list(cartesia.voices.list(limit=1))  # the SDK pages through all of them
    assert [v.id for v in voices][:2] == ["piperJoeEnUsMedium01", "hibariHeartEnUs01"]
    assert len(voices) == len({v.id for v in voices}) >= 6
    assert cartesia.voices.get("piperJoeEnUsMedium01").name == "Joe"
    assert cartesia.voices.get("hibariHeartEnUs01").gender == "feminine"
    old = httpx.get(f"{server.url}/voices/", headers={"X-API-Key": cartesia.api_key})
    assert old.json()["data"][0]["id"] == "piperJoeEnUsMedium01"


# Bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        ("/v1/text-to-speech/joe", {"text": "   "}, 422, "invalid_request"),
        ("/v1/text-to-speech/joe", {"text": "a" * 5001}, 422, "invalid_request"),
        ("/v1/text-to-speech/nobody", {"text": "hi"}, 404, "voice_not_found"),
        ("/v1/text-to-speech/joe", {"text": "hi", "model_id": "nope"}, 404, "model_not_found"),
        ("/v1/text-to-speech/joe?output_format=mp3_1", {"text": "hi"}, 422, "invalid_request"),
        ("/v1/text-to-speech/joe", {"text": "hi", "voice_settings": {"speed": 50}}, 422,
         "invalid_request"),
        ("/v1/audio/speech", {"model": "tts-1", "input": "hi", "voice": "alloy", "speed": 9},
         422, "invalid_request"),
        ("/tts/bytes", {"model_id": "sonic-2", "transcript": "hi", "voice": {"id": "joe"},
                        "output_format": {"container": "ogg", "sample_rate": 8000}},
         422, "invalid_request"),
        ("/tts/sse", {"model_id": "sonic-2", "transcript": "hi", "voice": {"id": "joe"},
                      "output_format": {"container": "mp3", "sample_rate": 44100}},
         422, "invalid_request"),
    ],
)  # fmt: skip
def test_bad_input_gets_a_clear_json_error(
    server: RunningServer, creds: Creds, path: str, body: dict[str, object], status: int, code: str
) -> None:
    reply = httpx.post(
        server.url + path, json=body, headers={"xi-api-key": creds.api_key}, timeout=30
    )
    assert reply.status_code == status
    assert reply.json()["error"]["code"] == code


def test_invalid_json_and_utf8_are_clear_4xx(server: RunningServer, creds: Creds) -> None:
    headers = {"xi-api-key": creds.api_key, "content-type": "application/json"}
    url = f"{server.url}/v1/text-to-speech/joe"
    reply = httpx.post(url, content=b'{"text": ', headers=headers)
    assert reply.status_code == 400
    assert reply.json()["error"]["code"] == "invalid_json"
    reply = httpx.post(url, content=b'{"text": "caf\xe9 SECRETWORD"}', headers=headers)
    assert reply.status_code in (400, 422)
    assert reply.json()["error"]["code"] in ("invalid_json", "invalid_request")
    assert "SECRETWORD" not in reply.text


def test_models_shape_follows_authentication(server: RunningServer, creds: Creds) -> None:
    eleven = httpx.get(f"{server.url}/v1/models", headers={"xi-api-key": creds.api_key}).json()
    bearer = httpx.get(
        f"{server.url}/v1/models", headers={"authorization": f"Bearer {creds.api_key}"}
    ).json()
    assert isinstance(eleven, list)
    assert eleven[0]["model_id"] == "local/piper"
    assert bearer["object"] == "list"
    assert bearer["data"][0]["id"] == "local/piper"
