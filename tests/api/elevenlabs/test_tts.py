"""ElevenLabs text-to-speech through its SDK and raw HTTP, against a real server."""

from __future__ import annotations

import base64
import struct

import httpx
import numpy as np
from elevenlabs.client import ElevenLabs

from tests.api.tts_audio import assert_speech, decode, pcm16
from tests.harness import Creds, RunningServer

FOX = "The quick brown fox jumps over the lazy dog."


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
