"""Bad input and the model list, across the TTS surfaces: clean errors with stable codes."""

from __future__ import annotations

import httpx
import pytest

from tests.harness import Creds, RunningServer

FOX = "The quick brown fox jumps over the lazy dog."


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
