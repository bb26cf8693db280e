"""Speech-to-speech through the ElevenLabs SDK: the words of a recording in another voice, at
their times; the recording itself is never kept; under ZDR nothing is, on any path."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import numpy as np
import pytest
from elevenlabs.client import ElevenLabs

from sottovoce.audit.markers import audio_marker_pcm
from sottovoce.engines.hibari import HibariSynthesizer
from sottovoce.engines.speaker import SpeakerEncoder
from tests.api.tts_audio import decode, heard
from tests.harness import Creds, RunningServer
from tests.spoken import Clip, encode, join, resample, silence, speak, word_edits, words_of

FIRST, SECOND = "Please bring the yellow basket.", "The garden is ready for summer."


@pytest.fixture
def eleven(server: RunningServer, workspace: Creds) -> Iterator[ElevenLabs]:
    with httpx.Client(timeout=120) as http:
        yield ElevenLabs(api_key=workspace.api_key, base_url=server.url, httpx_client=http)


def recording() -> Clip:
    """Joe says two sentences with a one-second pause between them."""
    first = speak(FIRST)
    return join(first, silence(1.0, first.rate), speak(SECOND))


def quiet_spans(samples: np.ndarray, rate: int, least: float = 0.5) -> list[tuple[float, float]]:
    """Stretches of at least ``least`` seconds without speech (20 ms frames, -35 dB)."""
    frame = rate // 50
    frames = samples[: samples.size // frame * frame].reshape(-1, frame).astype(np.float64)
    rms = np.sqrt(np.mean(frames**2, axis=1)) + 1e-9
    quiet = 20 * np.log10(rms / rms.max()) < -35
    spans, start = [], None
    for i, q in enumerate([*quiet, False]):
        if q and start is None:
            start = i
        elif not q and start is not None:
            if (i - start) * frame / rate >= least:
                spans.append((start * frame / rate, i * frame / rate))
            start = None
    return spans


def test_the_words_come_back_in_the_target_voice_at_their_times(
    server: RunningServer, workspace: Creds, eleven: ElevenLabs
) -> None:
    clip = recording()
    audio = b"".join(
        eleven.speech_to_speech.convert(
            "heart", audio=("in.wav", encode(clip, "wav"), "audio/wav"), output_format="wav_16000"
        )
    )
    _, rate, samples = decode(audio)
    said = words_of(f"{FIRST} {SECOND}")
    assert word_edits(said, words_of(heard(server.url, workspace.api_key, audio))) <= 1
    # Timing: the same length, and the pause where the speaker paused.
    assert abs(samples.size / rate - clip.duration) < 0.05
    pause_in = quiet_spans(clip.samples.astype(np.float64), clip.rate, 0.7)
    pause_out = quiet_spans(samples, rate, 0.7)
    assert len(pause_in) == len(pause_out) == 1
    assert abs(pause_in[0][0] - pause_out[0][0]) < 0.25
    assert abs(pause_in[0][1] - pause_out[0][1]) < 0.25
    # The voice: closer to Heart than to Joe, who spoke the input.
    encoder = SpeakerEncoder()
    out = encoder.embed((samples / 32768).astype(np.float32))
    joe = encoder.embed(resample(clip, 16000).astype(np.float32) / 32768)
    reference = HibariSynthesizer().render("The garden is ready for summer, please come in.")
    at_16k = np.interp(np.arange(0, reference.size, 1.5), np.arange(reference.size), reference)
    heart = encoder.embed(at_16k.astype(np.float32))
    assert float(out @ heart) > float(out @ joe) + 0.1


def test_the_stream_and_history_keep_the_output_never_the_recording(
    server: RunningServer, workspace: Creds, eleven: ElevenLabs, canary: str
) -> None:
    first = speak(FIRST)
    marked = np.frombuffer(audio_marker_pcm(canary), "<i2")
    # The canary's own samples between two sentences: the uploaded WAV carries them as is.
    samples = np.concatenate([first.samples, np.zeros(first.rate // 4, np.int16),
                              marked, speak(SECOND).samples])  # fmt: skip
    upload = encode(Clip(samples.astype(np.int16), first.rate), "wav")
    audio = b"".join(
        eleven.speech_to_speech.stream(
            "joe", audio=(f"{canary}.wav", upload, "audio/wav"), output_format="mp3_44100_64"
        )
    )
    assert decode(audio)[0].startswith("mp3")
    items = httpx.get(
        f"{server.url}/v1/history", headers={"xi-api-key": workspace.api_key},
        params={"source": "STS"},
    ).json()["history"]  # fmt: skip
    assert [i["voice_id"] for i in items] == ["piperJoeEnUsMedium01"]
    assert "basket" in items[0]["text"]
    server.store.checkpoint()
    assert server.find_marker(canary) == []
    assert server.find_audio_marker(canary) == []


def test_zdr_speech_to_speech_leaves_no_trace(
    server: RunningServer, zdr_workspace: Creds, canary: str
) -> None:
    h = {"xi-api-key": zdr_workspace.api_key}
    first = speak(FIRST)
    marked = np.concatenate([first.samples, np.frombuffer(audio_marker_pcm(canary), "<i2")])
    good = encode(Clip(marked.astype(np.int16), first.rate), "wav", metadata={"comment": canary})
    cases = {
        "success": ("/v1/speech-to-speech/heart/stream", good, 200),
        "corrupt audio": ("/v1/speech-to-speech/heart", b"\0no audio " + canary.encode() * 20, 422),
        "unknown voice": (f"/v1/speech-to-speech/{canary}", good, 404),
    }
    for name, (path, upload, status) in cases.items():
        r = httpx.post(f"{server.url}{path}", headers=h, timeout=120,
                       files={"audio": (f"{canary}.wav", upload, "audio/wav")})  # fmt: skip
        assert r.status_code == status, (name, r.text[:300])
        assert canary.encode() not in r.content
    server.store.checkpoint()
    assert server.find_marker(canary) == []
    assert server.find_audio_marker(canary) == []
    r = httpx.get(f"{server.url}/v1/history", headers=h)
    assert r.json()["history"] == []
