"""What the TTS endpoints say is speech: transcribing it with the STT endpoint gives the words."""

from __future__ import annotations

import httpx
import pytest

from tests.harness import Creds, RunningServer
from tests.spoken import word_edits, words_of

SENTENCE = "The quick brown fox jumps over the lazy dog."


def test_word_edits_counts_each_change() -> None:
    assert word_edits(["a", "b", "c"], ["a", "b", "c"]) == 0
    assert word_edits(["a", "b", "c"], ["a", "x", "c"]) == 1
    assert word_edits(["a", "b", "c"], ["a", "c"]) == 1
    assert word_edits(["a", "b", "c"], []) == 3


@pytest.mark.parametrize(
    ("path", "params", "body", "filename"),
    [
        ("/v1/text-to-speech/joe", {"output_format": "wav_16000"}, {"text": SENTENCE}, "a.wav"),
        (
            "/v1/text-to-speech/joe/stream",
            {"output_format": "mp3_44100_128"},
            {"text": SENTENCE},
            "a.mp3",
        ),
        (
            "/v1/audio/speech",
            {},
            {"model": "tts-1", "voice": "alloy", "input": SENTENCE, "response_format": "flac"},
            "a.flac",
        ),
    ],
)
def test_speech_transcribes_back_to_its_text(
    server: RunningServer,
    workspace: Creds,
    path: str,
    params: dict[str, str],
    body: dict[str, str],
    filename: str,
) -> None:
    h = {"xi-api-key": workspace.api_key}
    audio = httpx.post(f"{server.url}{path}", headers=h, params=params, json=body, timeout=120)
    assert audio.status_code == 200
    transcript = httpx.post(
        f"{server.url}/v1/speech-to-text",
        headers=h,
        timeout=120,
        data={"model_id": "scribe_v1", "language_code": "en"},
        files={"file": (filename, audio.content, "application/octet-stream")},
    )
    assert transcript.status_code == 200, transcript.text
    # The server's Piper samples its generator noise afresh on every request, so the same text
    # never sounds quite the same twice, and Whisper once in a hundred or so runs hears one word
    # differently ("quit" for "quick", seen in CI). One slip is allowed; silence, truncated or
    # garbled audio, or the wrong text, still fails.
    heard = words_of(transcript.json()["text"])
    assert word_edits(words_of(SENTENCE), heard) <= 1, heard
