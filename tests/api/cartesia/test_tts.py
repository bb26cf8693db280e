"""Cartesia text-to-speech through its SDK and raw HTTP, against a real server."""

from __future__ import annotations

import httpx
import numpy as np
from cartesia import Cartesia

from tests.api.tts_audio import assert_speech, decode
from tests.harness import RunningServer

FOX = "The quick brown fox jumps over the lazy dog."


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
