"""The browser tests' fixtures: one server (the shared one), one browser for the module, a
recording made by the local TTS for the upload and the fake microphone, and where screenshots
go (``SOTTOVOCE_TEST_ARTEFACTS``, else the test run's temporary directory)."""

from __future__ import annotations

import io
import os
import wave
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.harness import Creds, RunningServer
from tests.web.browser import Browser, launch

SPOKEN = "The quick brown fox jumps over the lazy dog."
SPOKEN_WORDS = ("quick", "brown", "fox", "lazy", "dog")
SILENCE_S = 8


def speech_wav(server: RunningServer, api_key: str, text: str = SPOKEN) -> bytes:
    """``text`` spoken by the local TTS as a 16 kHz WAV, and then silence: Chromium's fake
    microphone plays it in a loop, and the pause lets the realtime transcription commit and an
    agent answer before the caller speaks again (which would interrupt it)."""
    reply = httpx.post(
        f"{server.url}/v1/text-to-speech/joe",
        params={"output_format": "wav_16000", "enable_logging": "false"},
        headers={"xi-api-key": api_key},
        json={"text": text},
        timeout=120,
    )
    assert reply.status_code == 200, reply.text
    with wave.open(io.BytesIO(reply.content)) as spoken:
        rate, width, channels = spoken.getframerate(), spoken.getsampwidth(), spoken.getnchannels()
        frames = spoken.readframes(spoken.getnframes())
    out = io.BytesIO()
    with wave.open(out, "wb") as padded:
        padded.setnchannels(channels)
        padded.setsampwidth(width)
        padded.setframerate(rate)
        padded.writeframes(frames + b"\0" * (rate * width * channels * SILENCE_S))
    return out.getvalue()


@pytest.fixture(scope="module")
def admin(server: RunningServer) -> Creds:
    """A workspace that keeps history (ZDR off), and its admin key."""
    return server.create_workspace("console")


@pytest.fixture(scope="module")
def recording(
    server: RunningServer, admin: Creds, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    path = tmp_path_factory.mktemp("recording") / "spoken.wav"
    path.write_bytes(speech_wav(server, admin.api_key))
    return path


@pytest.fixture(scope="module")
def browser(
    server: RunningServer, recording: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Browser]:
    started = with_microphone(tmp_path_factory.mktemp("browser"), server.url, recording)
    yield started
    started.quit()


def with_microphone(root: Path, base_url: str, recording: Path) -> Browser:
    """A Chromium whose fake microphone (permission granted) plays ``recording`` in a loop."""
    return launch(
        root,
        base_url,
        (
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={recording}",
        ),
    )


@pytest.fixture(scope="session")
def artefacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chosen = os.environ.get("SOTTOVOCE_TEST_ARTEFACTS")
    return Path(chosen) / "screenshots" if chosen else tmp_path_factory.mktemp("screenshots")
