"""Multi-channel uploads: a call recorded with one party per channel comes back as both parties'
words, whether the client asks for it (ElevenLabs ``use_multi_channel``) or not."""

from __future__ import annotations

import httpx
import pytest
from elevenlabs import ElevenLabs
from openai import OpenAI

from tests.harness import Creds, RunningServer
from tests.spoken import Clip, join, multichannel_wav, random_phrase, silence, speak, words_of

AGENT = "Thank you for calling the clinic, how can I help you today?"
CALLER = "I would like to move my appointment to next Thursday morning."


@pytest.fixture(scope="module")
def call() -> bytes:
    """Both parties talking at once, each on a channel of their own."""
    agent, caller = speak(AGENT), speak(CALLER)
    pad = silence(0.3, agent.rate)
    return multichannel_wav(join(pad, agent, pad), join(pad, silence(0.4, agent.rate), caller, pad))


def stt(server: RunningServer, key: str, audio: bytes, **fields: str) -> httpx.Response:
    return httpx.post(
        f"{server.url}/v1/speech-to-text",
        headers={"xi-api-key": key},
        files={"file": ("call.wav", audio, "audio/wav")},
        data={"model_id": "scribe_v1", "language_code": "en", **fields},
        timeout=120,
    )


def test_overlapping_parties_on_two_channels_both_come_back(
    server: RunningServer, workspace: Creds, call: bytes
) -> None:
    r = stt(server, workspace.api_key, call)
    assert r.status_code == 200, r.text
    body = r.json()
    # Interleaved by time: the agent starts first.
    assert words_of(body["text"]) == words_of(AGENT) + words_of(CALLER)
    words = [w for w in body["words"] if w["type"] == "word"]
    agent = [w["text"] for w in words if w["channel_index"] == 0]
    caller = [w["text"] for w in words if w["channel_index"] == 1]
    assert words_of(" ".join(agent)) == words_of(AGENT)
    assert words_of(" ".join(caller)) == words_of(CALLER)
    assert {w["speaker_id"] for w in words} == {"speaker_0", "speaker_1"}


def test_openai_transcription_of_a_two_channel_call_has_both_parties(
    server: RunningServer, workspace: Creds, call: bytes
) -> None:
    with httpx.Client(timeout=120) as http:
        client = OpenAI(api_key=workspace.api_key, base_url=f"{server.url}/v1", http_client=http)
        result = client.audio.transcriptions.create(
            model="whisper-1", file=("call.wav", call, "audio/wav"), language="en"
        )
    assert words_of(result.text) == words_of(AGENT) + words_of(CALLER)


def test_sdk_use_multi_channel_gives_a_transcript_per_channel(
    server: RunningServer, workspace: Creds, call: bytes
) -> None:
    with httpx.Client(timeout=120) as http:
        client = ElevenLabs(api_key=workspace.api_key, base_url=server.url, httpx_client=http)
        result = client.speech_to_text.convert(
            model_id="scribe_v1",
            file=("call.wav", call, "audio/wav"),
            language_code="en",
            use_multi_channel=True,
        )
    transcripts = result.transcripts  # type: ignore[union-attr]
    assert [t.channel_index for t in transcripts] == [0, 1]
    assert words_of(transcripts[0].text) == words_of(AGENT)
    assert words_of(transcripts[1].text) == words_of(CALLER)
    caller_words = [w for w in transcripts[1].words if w.type == "word"]
    assert {w.channel_index for w in caller_words} == {1}
    assert result.transcription_id  # type: ignore[union-attr]


def test_combined_output_sorts_every_word_by_time(
    server: RunningServer, workspace: Creds, call: bytes
) -> None:
    r = stt(
        server, workspace.api_key, call, use_multi_channel="true",
        multichannel_output_style="combined",
    )  # fmt: skip
    assert r.status_code == 200, r.text
    words = [w for w in r.json()["words"] if w["type"] == "word"]
    assert [w["start"] for w in words] == sorted(w["start"] for w in words)
    assert {w["channel_index"] for w in words} == {0, 1}
    assert sorted(words_of(" ".join(w["text"] for w in words))) == sorted(
        words_of(AGENT) + words_of(CALLER)
    )


def test_one_voice_copied_to_both_channels_is_heard_once(
    server: RunningServer, workspace: Creds
) -> None:
    spoken = speak(AGENT)
    # The right channel is the left one 3 ms later and quieter: one scene, two microphones.
    delayed = Clip((spoken.samples * 0.6).astype(spoken.samples.dtype), spoken.rate)
    stereo = multichannel_wav(spoken, join(silence(0.003, spoken.rate), delayed))
    r = stt(server, workspace.api_key, stereo)
    assert r.status_code == 200, r.text
    assert words_of(r.json()["text"]) == words_of(AGENT)
    assert all("channel_index" not in w for w in r.json()["words"])


def test_use_multi_channel_on_mono_gives_the_single_transcript(
    server: RunningServer, workspace: Creds
) -> None:
    r = stt(server, workspace.api_key, multichannel_wav(speak(AGENT)), use_multi_channel="true")
    assert r.status_code == 200, r.text
    assert "transcripts" not in r.json()
    assert words_of(r.json()["text"]) == words_of(AGENT)


@pytest.mark.parametrize(
    ("fields", "name"),
    [
        ({"use_multi_channel": "maybe"}, "use_multi_channel"),
        ({"use_multi_channel": "true", "multichannel_output_style": "mixed"},
         "multichannel_output_style"),
        ({"use_multi_channel": "true", "multichannel_output_style": "combined",
          "timestamps_granularity": "none"}, "timestamps_granularity"),
    ],
)  # fmt: skip
def test_bad_multi_channel_fields_are_named(
    server: RunningServer, workspace: Creds, call: bytes, fields: dict[str, str], name: str
) -> None:
    r = stt(server, workspace.api_key, call, **fields)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["fields"] == [name]


def test_more_than_five_channels_cannot_be_split(server: RunningServer, workspace: Creds) -> None:
    six = multichannel_wav(*[speak(AGENT)] * 6)
    r = stt(server, workspace.api_key, six, use_multi_channel="true")
    assert r.status_code == 422, r.text
    assert r.json()["error"]["fields"] == ["use_multi_channel"]
    # Without the flag the six channels are mixed down and transcribed as one.
    r = stt(server, workspace.api_key, six)
    assert r.status_code == 200, r.text
    assert words_of(r.json()["text"]) == words_of(AGENT)


@pytest.mark.parametrize("style", ["separate", "combined", "auto"])
def test_zdr_split_channels_leave_no_trace(
    server: RunningServer, zdr_workspace: Creds, canary: str, style: str
) -> None:
    left = ", ".join(random_phrase(4)).capitalize() + "."
    right = ", ".join(random_phrase(4)).capitalize() + "."
    audio = multichannel_wav(speak(left), join(silence(0.5, 22050), speak(right)))
    fields = {} if style == "auto" else {"use_multi_channel": "true",
                                         "multichannel_output_style": style}  # fmt: skip
    r = httpx.post(
        f"{server.url}/v1/speech-to-text",
        headers={"xi-api-key": zdr_workspace.api_key},
        files={"file": (f"{canary}.wav", audio, "audio/wav")},
        data={"model_id": "scribe_v1", "language_code": "en", **fields},
        timeout=120,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    texts = [t["text"] for t in body["transcripts"]] if "transcripts" in body else [body["text"]]
    # Both channels were heard (random words: the exact spelling is Whisper's business).
    assert len(words_of(" ".join(texts))) >= 6, texts
    server.store.checkpoint()
    assert server.find_marker(canary) == []
    for text in texts:
        assert server.find_marker(text) == []
