"""File transcription through the vendors' SDKs and raw HTTP, against a real server."""

from __future__ import annotations

import io
import json

import httpx
import pytest
from cartesia import Cartesia
from elevenlabs import ElevenLabs
from openai import OpenAI

from tests.harness import Creds, RunningServer
from tests.spoken import Clip, encode, join, resample, silence, speak, words_of

SENTENCE = "The nurse will call you back after lunch to confirm the appointment."
WORDS = words_of(SENTENCE)


@pytest.fixture(scope="module")
def clip() -> Clip:
    spoken = speak(SENTENCE)
    return join(silence(0.3, spoken.rate), spoken, silence(0.3, spoken.rate))


def post(server: RunningServer, key: str, path: str, files: dict, data: dict | None = None,
         params: dict | None = None) -> httpx.Response:  # fmt: skip
    return httpx.post(
        f"{server.url}{path}",
        headers={"xi-api-key": key},
        files=files,
        data=data or {},
        params=params,
        timeout=120,
    )


# ElevenLabs ---------------------------------------------------------------------------------


def test_elevenlabs_sdk_gets_words_with_timings(
    server: RunningServer, workspace: Creds, clip: Clip
) -> None:
    with httpx.Client(timeout=120) as http:
        client = ElevenLabs(api_key=workspace.api_key, base_url=server.url, httpx_client=http)
        result = client.speech_to_text.convert(
            model_id="scribe_v1", file=("visit.mp3", encode(clip, "mp3"), "audio/mpeg")
        )
    assert words_of(result.text) == WORDS
    assert result.language_code == "en"
    assert result.language_probability > 0.5
    assert result.audio_duration_secs == pytest.approx(clip.duration, abs=0.1)
    assert result.transcription_id
    words = [w for w in result.words if w.type == "word"]
    assert words_of(" ".join(w.text for w in words)) == WORDS
    assert all(w.start is not None and w.end is not None and w.start <= w.end for w in words)
    assert {w.type for w in result.words} == {"word", "spacing"}
    # Without ZDR the transcript goes to history, source STT.
    item = httpx.get(
        f"{server.url}/v1/history/{result.transcription_id}",
        headers={"xi-api-key": workspace.api_key},
    ).json()
    assert item["source"] == "STT"


def test_elevenlabs_raw_pcm_and_character_timestamps(
    server: RunningServer, workspace: Creds, clip: Clip
) -> None:
    pcm = resample(clip, 16000).astype("<i2").tobytes()
    r = post(
        server,
        workspace.api_key,
        "/v1/speech-to-text",
        files={"file": ("a.pcm", pcm, "application/octet-stream")},
        data={
            "model_id": "scribe_v1",
            "file_format": "pcm_s16le_16",
            "timestamps_granularity": "character",
            "language_code": "eng",
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert words_of(body["text"]) == WORDS
    first = next(w for w in body["words"] if w["type"] == "word")
    assert "".join(c["text"] for c in first["characters"]) == first["text"]


# OpenAI -------------------------------------------------------------------------------------


def test_openai_sdk_json_text_and_verbose(
    server: RunningServer, workspace: Creds, clip: Clip
) -> None:
    audio = ("visit.m4a", encode(clip, "m4a"), "audio/mp4")
    with OpenAI(api_key=workspace.api_key, base_url=f"{server.url}/v1", max_retries=0) as client:
        plain = client.audio.transcriptions.create(model="whisper-1", file=audio)
        text = client.audio.transcriptions.create(
            model="whisper-1", file=audio, response_format="text"
        )
        verbose = client.audio.transcriptions.create(
            model="whisper-1",
            file=audio,
            response_format="verbose_json",
            timestamp_granularities=["word", "segment"],
            language="en",
        )
    assert words_of(plain.text) == WORDS
    assert words_of(str(text)) == WORDS
    assert verbose.language == "english"
    assert verbose.duration == pytest.approx(clip.duration, abs=0.1)
    assert words_of(" ".join(w.word for w in verbose.words or [])) == WORDS
    assert verbose.segments and verbose.segments[0].end > verbose.segments[0].start


@pytest.mark.parametrize("fmt", ["srt", "vtt"])
def test_openai_subtitles(server: RunningServer, workspace: Creds, clip: Clip, fmt: str) -> None:
    r = httpx.post(
        f"{server.url}/v1/audio/transcriptions",
        headers={"authorization": f"Bearer {workspace.api_key}"},
        files={"file": ("a.webm", encode(clip, "webm"), "audio/webm")},
        data={"model": "whisper-1", "response_format": fmt},
        timeout=120,
    )
    assert r.status_code == 200, r.text
    lines = r.text.splitlines()
    if fmt == "vtt":
        assert lines[0] == "WEBVTT"
        assert "00:00:00.000 -->" in r.text or "00:00:00." in r.text
    else:
        assert lines[0] == "1"
        assert " --> " in lines[1] and "," in lines[1]
    assert set(WORDS) <= set(words_of(r.text))


# Cartesia -----------------------------------------------------------------------------------


def test_cartesia_sdk_transcribes(server: RunningServer, workspace: Creds, clip: Clip) -> None:
    with Cartesia(api_key=workspace.api_key, base_url=server.url, max_retries=0) as client:
        result = client.stt.transcribe(
            file=("visit.flac", encode(clip, "flac"), "audio/flac"),
            model="ink-whisper",
            language="en",
            timestamp_granularities=["word"],
        )
    assert words_of(result.text) == WORDS
    assert result.duration == pytest.approx(clip.duration, abs=0.1)
    assert words_of(" ".join(w.word for w in result.words or [])) == WORDS


def test_cartesia_raw_mulaw_with_query_format(
    server: RunningServer, workspace: Creds, clip: Clip
) -> None:
    wav = encode(clip, "wav-mulaw-8k")
    start = wav.index(b"data") + 8
    r = post(
        server,
        workspace.api_key,
        "/stt",
        files={"file": ("call.raw", wav[start:], "application/octet-stream")},
        data={"model": "ink-whisper"},
        params={"encoding": "pcm_mulaw", "sample_rate": 8000},
    )
    assert r.status_code == 200, r.text
    assert r.json()["type"] == "transcript"
    assert words_of(r.json()["text"]) == WORDS


def test_cartesia_raw_without_a_rate_is_16k_and_a_rate_alone_is_not_raw(
    server: RunningServer, workspace: Creds, clip: Clip
) -> None:
    """Query parameters are independent in the OpenAPI document: neither needs the other."""
    raw = resample(clip, 16000).astype("<i2").tobytes()
    for files, params in (
        ({"file": ("call.raw", raw, "application/octet-stream")}, {"encoding": "pcm_s16le"}),
        ({"file": ("call.mp3", encode(clip, "mp3"), "audio/mpeg")}, {"sample_rate": 16000}),
    ):
        r = post(server, workspace.api_key, "/stt", files=files, params=params)
        assert r.status_code == 200, r.text
        assert words_of(r.json()["text"]) == WORDS


# Bad input: a clear JSON 4xx, never a 500 --------------------------------------------------


@pytest.mark.parametrize(
    ("path", "files", "data", "status", "code"),
    [
        ("/v1/speech-to-text", {"model_id": (None, "scribe_v1")}, {}, 422, "invalid_request"),
        ("/v1/speech-to-text", {"file": ("a.wav", b"not audio at all" * 50)}, {}, 422,
         "invalid_audio"),
        ("/v1/speech-to-text", {"file": ("a.wav", b"")}, {}, 422, "invalid_audio"),
        ("/v1/speech-to-text", {"file": ("a.wav", b"RIFF")}, {"model_id": "nope"}, 404,
         "model_not_found"),
        ("/v1/speech-to-text", {"file": ("a.wav", b"RIFF")}, {"timestamps_granularity": "x"},
         422, "invalid_request"),
        ("/v1/speech-to-text", {"file": ("a.wav", b"RIFF")}, {"webhook": "true"}, 422,
         "invalid_request"),
        ("/v1/audio/transcriptions", {"file": ("a.wav", b"RIFF")}, {"response_format": "x"},
         422, "invalid_request"),
        ("/v1/audio/transcriptions", {"file": ("a.wav", b"RIFF")}, {"temperature": "hot"},
         422, "invalid_request"),
        ("/v1/audio/transcriptions", {"file": ("a.wav", b"\x00" * 5)}, {"language": "xx"}, 422,
         "invalid_request"),
        ("/stt", {"file": ("a.raw", b"\x00\x00")}, {}, 422, "invalid_audio"),
    ],
)  # fmt: skip
def test_bad_input_is_a_json_4xx(
    server: RunningServer, workspace: Creds, path: str, files: dict, data: dict, status: int,
    code: str,
) -> None:  # fmt: skip
    r = post(server, workspace.api_key, path, files=files, data=data)
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code


def test_raw_body_that_is_not_multipart_is_a_415(server: RunningServer, workspace: Creds) -> None:
    r = httpx.post(
        f"{server.url}/v1/speech-to-text",
        headers={"xi-api-key": workspace.api_key, "content-type": "application/json"},
        content=json.dumps({"file": "x"}),
    )
    assert r.status_code == 415
    assert r.json()["error"]["code"] == "unsupported_media_type"


def test_missing_key_is_a_401(server: RunningServer, clip: Clip) -> None:
    r = httpx.post(
        f"{server.url}/v1/audio/transcriptions",
        files={"file": ("a.wav", io.BytesIO(encode(clip, "wav")))},
    )
    assert r.status_code == 401


def test_limits_are_413(limits_server: RunningServer, clip: Clip) -> None:
    """On the server with small limits: uploads of 100 kB, 1 s of audio."""
    small = limits_server
    creds = small.create_workspace("limits")
    big = post(
        small, creds.api_key, "/v1/speech-to-text", files={"file": ("a.wav", b"\0" * 150_000)}
    )
    assert big.status_code == 413
    assert big.json()["error"]["fields"] == ["file"]
    long = post(small, creds.api_key, "/stt", files={"file": ("a.mp3", encode(clip, "mp3"))})
    assert long.status_code == 413
    assert long.json()["error"]["code"] == "audio_too_long"
