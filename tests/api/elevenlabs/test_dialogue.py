"""Text-to-dialogue through the ElevenLabs SDK: turns in order, each in its voice, one stream;
history source TTD; and under ZDR nothing kept, on success and on every failure path."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from elevenlabs import DialogueInput
from elevenlabs.client import ElevenLabs

from tests.api.tts_audio import decode, heard
from tests.harness import Creds, RunningServer
from tests.spoken import word_edits, words_of

FIRST, SECOND = "Good morning, Anna.", "Hello Peter, the garden looks lovely."


def turns(first: str = FIRST, second: str = SECOND) -> list[DialogueInput]:
    return [DialogueInput(text=first, voice_id="joe"), DialogueInput(text=second, voice_id="heart")]


@pytest.fixture
def eleven(server: RunningServer, workspace: Creds) -> Iterator[ElevenLabs]:
    with httpx.Client(timeout=120) as http:
        yield ElevenLabs(api_key=workspace.api_key, base_url=server.url, httpx_client=http)


def history(server: RunningServer, key: str) -> list[dict[str, object]]:
    r = httpx.get(f"{server.url}/v1/history", headers={"xi-api-key": key})
    items: list[dict[str, object]] = r.json()["history"]
    return items


def test_the_turns_are_spoken_in_order_in_one_stream(
    server: RunningServer, workspace: Creds, eleven: ElevenLabs
) -> None:
    audio = b"".join(eleven.text_to_dialogue.convert(inputs=turns(), output_format="mp3_44100_64"))
    codec, rate, _ = decode(audio)
    assert codec.startswith("mp3") and rate == 44100
    said = words_of(FIRST + " " + SECOND)
    assert word_edits(said, words_of(heard(server.url, workspace.api_key, audio, "a.mp3"))) <= 1
    [item] = [i for i in history(server, workspace.api_key) if i["source"] == "TTD"]
    assert item["voice_id"] == "piperJoeEnUsMedium01"
    detail = httpx.get(
        f"{server.url}/v1/history/{item['history_item_id']}",
        headers={"xi-api-key": workspace.api_key},
    ).json()
    assert FIRST in json.dumps(detail) and SECOND in json.dumps(detail)


def test_timestamps_give_one_voice_segment_per_turn(eleven: ElevenLabs) -> None:
    result = eleven.text_to_dialogue.convert_with_timestamps(
        inputs=turns(), output_format="pcm_16000"
    )
    first, second = result.voice_segments
    assert (first.voice_id, second.voice_id) == ("piperJoeEnUsMedium01", "hibariHeartEnUs01")
    assert (first.dialogue_input_index, second.dialogue_input_index) == (0, 1)
    assert first.character_end_index == second.character_start_index == len(FIRST)
    assert 0 <= first.start_time_seconds < first.end_time_seconds < second.start_time_seconds
    assert result.alignment is not None
    assert "".join(result.alignment.characters) == FIRST + SECOND
    ends = result.alignment.character_end_times_seconds
    assert ends == sorted(ends) and ends[-1] <= second.end_time_seconds + 0.01


def test_the_timestamped_stream_sends_segments_as_turns_end(eleven: ElevenLabs) -> None:
    chunks = list(eleven.text_to_dialogue.stream_with_timestamps(inputs=turns()))
    segments = [s for c in chunks for s in (c.voice_segments or [])]
    assert [s.dialogue_input_index for s in segments] == [0, 1]
    assert sum(len(c.audio_base_64 or "") for c in chunks) > 1000


def test_zdr_dialogue_leaves_no_trace(
    server: RunningServer, zdr_workspace: Creds, canary: str
) -> None:
    url = f"{server.url}/v1/text-to-dialogue"
    h = {"xi-api-key": zdr_workspace.api_key}
    ok = {"inputs": [{"text": f"Hello {canary}.", "voice_id": "joe"},
                     {"text": f"Bye {canary}.", "voice_id": "heart"}]}  # fmt: skip
    cases = {
        "success": (f"{url}/stream", ok, 200),
        "unknown voice": (url, {"inputs": [{"text": canary, "voice_id": canary}]}, 404),
        "too many inputs": (
            url, {"inputs": [{"text": f"{canary} {i}", "voice_id": "joe"} for i in range(60)]},
            422,
        ),
        "empty text": (url, {"inputs": [{"text": canary, "voice_id": "joe"},
                                        {"text": "  ", "voice_id": "heart"}]}, 422),
        "no inputs": (url, {"inputs": []}, 422),
    }  # fmt: skip
    for name, (target, body, status) in cases.items():
        r = httpx.post(target, headers=h, json=body, timeout=120)
        assert r.status_code == status, (name, r.text)
        assert canary not in r.text
    server.store.checkpoint()
    assert server.find_marker(canary) == []
    assert history(server, zdr_workspace.api_key) == []


def test_enable_logging_false_keeps_nothing(
    server: RunningServer, workspace: Creds, eleven: ElevenLabs, canary: str
) -> None:
    b"".join(
        eleven.text_to_dialogue.convert(inputs=turns(f"Hi {canary}.", "Bye."), enable_logging=False)
    )
    server.store.checkpoint()
    assert server.find_marker(canary) == []
    assert history(server, workspace.api_key) == []
