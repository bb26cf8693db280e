"""Inworld text-to-speech through the official ``inworld-tts`` SDK and raw HTTP: audio in every
encoding, timestamps, voices, gRPC-shaped errors, and the retention canaries (under ZDR only a
usage record remains, on success, on each failure and when the client hangs up; without ZDR the
marker comes back from history)."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import time
from typing import Any

import httpx
import pytest
from inworld_tts import ApiError, InworldTTS

from sottovoce.store import usage
from tests.api.tts_audio import assert_speech, decode, pcm16
from tests.harness import Creds, RunningServer

FOX = "The quick brown fox jumps over the lazy dog."


def sdk(server: RunningServer, creds: Creds) -> InworldTTS:
    return InworldTTS(api_key=creds.api_key, base_url=server.url, max_retries=0)


def post(server: RunningServer, key: str, body: dict[str, Any], path: str = "/tts/v1/voice",
         **params: str) -> httpx.Response:  # fmt: skip
    headers = {"Authorization": f"Basic {key}"}
    return httpx.post(server.url + path, json=body, headers=headers, params=params, timeout=60)


def ask(text: str, **extra: Any) -> dict[str, Any]:
    return {"text": text, "voiceId": "Ashley", "modelId": "inworld-tts-1", **extra}


def words_of(text: str) -> list[str]:
    return re.findall(r"[A-Za-z']+", text)


# Audio -----------------------------------------------------------------------------------


def test_the_sdk_gets_linear16_as_a_wav_of_the_asked_rate(
    server: RunningServer, workspace: Creds
) -> None:
    wav = sdk(server, workspace).generate(
        FOX, voice="Ashley", encoding="LINEAR16", sample_rate=24000
    )
    assert wav[:4] == b"RIFF"
    codec, rate, samples = decode(wav)
    assert (codec, rate) == ("pcm_s16le", 24000)
    assert_speech(samples, rate, FOX)


def test_the_sdk_default_is_mp3_at_48khz(server: RunningServer, workspace: Creds) -> None:
    codec, rate, samples = decode(sdk(server, workspace).generate(FOX, voice="Dennis"))
    assert (codec, rate) == ("mp3float", 48000)
    assert_speech(samples, rate, FOX)


def test_the_sdk_streams_raw_pcm_in_several_chunks(server: RunningServer, workspace: Creds) -> None:
    async def collect() -> list[bytes]:
        tts = sdk(server, workspace)
        stream = tts.stream(FOX, voice="Ashley", encoding="PCM", sample_rate=16000)
        return [chunk async for chunk in stream]

    chunks = asyncio.run(collect())
    assert len(chunks) >= 2  # the first words leave before the sentence is done
    assert_speech(pcm16(b"".join(chunks)), 16000, FOX)


@pytest.mark.parametrize("kind", ["WORD", "CHARACTER"])
def test_timestamps_cover_the_text_within_the_audio(
    server: RunningServer, workspace: Creds, kind: str
) -> None:
    text = "Hello there, my friend."
    result = sdk(server, workspace).generate_with_timestamps(
        text, timestamp_type=kind, voice="Ashley", encoding="LINEAR16", sample_rate=22050
    )
    _codec, rate, samples = decode(result["audio"])
    seconds = len(samples) / rate
    timestamps = result["timestamps"]
    assert timestamps is not None
    if kind == "WORD":
        words = timestamps["wordAlignment"]
        assert words_of(" ".join(words["words"])) == words_of(text)
        starts, ends = words["wordStartTimeSeconds"], words["wordEndTimeSeconds"]
    else:
        chars = timestamps["characterAlignment"]
        assert "".join(chars["characters"]) == text
        starts, ends = chars["characterStartTimeSeconds"], chars["characterEndTimeSeconds"]
    assert starts == sorted(starts)
    assert all(s <= e for s, e in zip(starts, ends, strict=True))
    assert 0.7 * seconds < ends[-1] <= seconds + 1e-3


def test_the_stream_carries_timestamps_and_ends_with_usage(
    server: RunningServer, workspace: Creds
) -> None:
    body = ask(FOX, timestampType="CHARACTER", audioConfig={"audioEncoding": "PCM"})
    reply = post(server, workspace.api_key, body, "/tts/v1/voice:stream")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("application/x-ndjson")
    results = [json.loads(line)["result"] for line in reply.text.splitlines()]
    audio = b"".join(base64.b64decode(r["audioContent"]) for r in results if "audioContent" in r)
    aligned = [r["timestampInfo"]["characterAlignment"] for r in results if "timestampInfo" in r]
    chars = [c for a in aligned for c in a["characters"]]
    assert "".join(chars) == FOX
    assert results[-1]["usage"] == {"processedCharactersCount": len(FOX), "modelId": "local/piper"}
    assert_speech(pcm16(audio), 48000, FOX)


@pytest.mark.parametrize(
    ("encoding", "rate", "codec"),
    [("OGG_OPUS", 48000, "opus"), ("FLAC", 16000, "flac"), ("WAV", 8000, "pcm_s16le")],
)
def test_container_encodings(
    server: RunningServer, workspace: Creds, encoding: str, rate: int, codec: str
) -> None:
    audio = sdk(server, workspace).generate(
        FOX, voice="Ashley", encoding=encoding, sample_rate=rate
    )
    got_codec, got_rate, samples = decode(audio)
    assert (got_codec, got_rate) == (codec, rate)
    assert_speech(samples, rate, FOX)


def test_speaking_rate_shortens_the_audio(server: RunningServer, workspace: Creds) -> None:
    def seconds(speed: float) -> float:
        tts = sdk(server, workspace)
        pcm = tts.generate(
            FOX, voice="Ashley", encoding="PCM", sample_rate=16000, speaking_rate=speed
        )
        return len(pcm) / 2 / 16000

    assert seconds(1.5) < 0.8 * seconds(0.6)


def test_voices_in_both_apis(server: RunningServer, workspace: Creds) -> None:
    voices = sdk(server, workspace).list_voices(lang="EN_US")
    assert [v["voiceId"] for v in voices][:2] == ["piperJoeEnUsMedium01", "hibariHeartEnUs01"]
    assert voices[0]["displayName"] == "Joe"
    assert voices[1]["tags"] == ["female", "young", "american"]
    listed = httpx.get(
        f"{server.url}/tts/v1/voices",
        params={"filter": "language=en"},
        headers={"Authorization": f"Basic {workspace.api_key}"},
    ).json()["voices"]
    assert [v["voiceId"] for v in listed] == [v["voiceId"] for v in voices]
    assert sdk(server, workspace).list_voices(lang="FR_FR") == []


def test_the_key_may_be_base64_user_and_key(server: RunningServer, workspace: Creds) -> None:
    encoded = base64.b64encode(f"user:{workspace.api_key}".encode()).decode()
    reply = post(server, encoded, ask(FOX, audioConfig={"audioEncoding": "PCM"}))
    assert reply.status_code == 200
    assert_speech(pcm16(base64.b64decode(reply.json()["audioContent"])), 48000, FOX)


# Errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "status", "grpc", "reason"),
    [
        ({"voiceId": "nobody"}, 404, 5, "voice_not_found"),
        ({"modelId": "no-such-model"}, 404, 5, "model_not_found"),
        ({"audioConfig": {"audioEncoding": "AAC"}}, 422, 3, "invalid_request"),
        ({"audioConfig": {"audioEncoding": "OGG_OPUS", "sampleRateHertz": 44100}}, 422, 3,
         "invalid_request"),
        ({"audioConfig": {"speakingRate": 3}}, 422, 3, "invalid_request"),
        ({"text": "x" * 2001}, 422, 3, "invalid_request"),
        ({"text": " "}, 422, 3, "invalid_request"),
    ],
)  # fmt: skip
def test_errors_are_grpc_statuses_with_a_stable_reason(
    server: RunningServer, workspace: Creds, change: dict[str, Any], status: int, grpc: int,
    reason: str,
) -> None:  # fmt: skip
    reply = post(server, workspace.api_key, ask(FOX) | change)
    assert reply.status_code == status
    body = reply.json()
    assert body["code"] == grpc
    assert body["details"][0]["reason"] == reason
    assert body["details"][0]["metadata"]["request_id"] == reply.headers["request-id"]


def test_the_sdk_raises_api_error_with_the_status(server: RunningServer, workspace: Creds) -> None:
    with pytest.raises(ApiError) as info:
        sdk(server, workspace).generate(FOX, voice="nobody")
    assert info.value.code == 404
    assert info.value.details["details"][0]["reason"] == "voice_not_found"


def test_a_wrong_key_is_unauthenticated(server: RunningServer) -> None:
    reply = post(server, "sv_wrong", ask(FOX))
    assert reply.status_code == 401
    assert reply.json()["code"] == 16


def test_invalid_json_is_a_clean_400(server: RunningServer, workspace: Creds) -> None:
    reply = httpx.post(
        f"{server.url}/tts/v1/voice",
        content=b'{"text": ',
        headers={"Authorization": f"Basic {workspace.api_key}", "content-type": "application/json"},
    )
    assert reply.status_code == 400
    assert reply.json()["details"][0]["reason"] == "invalid_json"


# Retention canaries ------------------------------------------------------------------------


def usage_of(server: RunningServer, workspace_id: str, count: int) -> list[usage.UsageRecord]:
    """The workspace's TTS usage records, once ``count`` are written (after each response)."""
    deadline = time.monotonic() + 10
    while True:
        with server.store.session() as session:
            records = usage.query(session, workspace_id, product="tts")
        if len(records) >= count or time.monotonic() > deadline:
            return records
        time.sleep(0.05)


def history_of(server: RunningServer, creds: Creds) -> list[dict[str, Any]]:
    reply = httpx.get(f"{server.url}/v1/history", headers={"xi-api-key": creds.api_key})
    items: list[dict[str, Any]] = reply.json()["history"]
    return items


@pytest.mark.parametrize("path", ["/tts/v1/voice", "/tts/v1/voice:stream"])
@pytest.mark.parametrize("via", ["workspace", "enable_logging"])
def test_zero_retention_keeps_only_usage(
    server: RunningServer, canary: str, path: str, via: str
) -> None:
    creds = server.create_workspace("zdr", zdr=via == "workspace")
    params = {"enable_logging": "false"} if via == "enable_logging" else {}
    body = ask(f"Say {canary} now.", timestampType="WORD")
    reply = post(server, creds.api_key, body, path, **params)
    assert reply.status_code == 200
    [record] = usage_of(server, creds.workspace_id, 1)
    assert (record.outcome, record.zero_retention, record.content_retained) == ("ok", True, False)
    assert record.output_unit == "audio_seconds" and record.output_units > 0.5
    assert history_of(server, creds) == []
    assert server.find_marker(canary) == []


@pytest.mark.parametrize(
    "change",
    [{"voiceId": "CANARY"}, {"modelId": "CANARY"}, {"audioConfig": {"audioEncoding": "CANARY"}},
     {"audioConfig": {"speakingRate": "CANARY"}}, {"text": "CANARY " * 400}],
)  # fmt: skip
def test_zero_retention_failures_keep_nothing(
    server: RunningServer, zdr_workspace: Creds, canary: str, change: dict[str, Any]
) -> None:
    change = {
        k: canary if v == "CANARY" else v.replace("CANARY", canary) if isinstance(v, str) else v
        for k, v in change.items()
    }
    if "audioConfig" in change:
        change["audioConfig"] = dict.fromkeys(change["audioConfig"], canary)
    reply = post(server, zdr_workspace.api_key, ask(f"Say {canary}.") | change)
    assert 400 <= reply.status_code < 500
    assert canary not in reply.text
    assert [r.outcome for r in usage_of(server, zdr_workspace.workspace_id, 1)] == ["error"]
    assert server.find_marker(canary) == []


def test_zero_retention_client_gone_mid_stream_keeps_nothing(
    server: RunningServer, zdr_workspace: Creds, canary: str
) -> None:
    text = f"{canary}. " + "This sentence keeps the stream going for a while. " * 12
    body = ask(text, audioConfig={"audioEncoding": "PCM"})
    with httpx.stream(
        "POST",
        f"{server.url}/tts/v1/voice:stream",
        json=body,
        headers={"Authorization": f"Basic {zdr_workspace.api_key}"},
        timeout=60,
    ) as reply:
        assert reply.status_code == 200
        for _line in reply.iter_lines():
            break  # the first audio arrived: hang up
    [record] = usage_of(server, zdr_workspace.workspace_id, 1)
    assert record.outcome == "cancelled"
    assert server.find_marker(canary) == []


def test_without_zdr_the_marker_is_in_history(
    server: RunningServer, workspace: Creds, canary: str
) -> None:
    reply = post(server, workspace.api_key, ask(f"Say {canary} now."))
    assert reply.status_code == 200
    usage_of(server, workspace.workspace_id, 1)
    [item] = history_of(server, workspace)
    assert (item["source"], item["text"]) == ("TTS", f"Say {canary} now.")
    assert item["content_type"] == "audio/mpeg"
    # The negative control: the same search that finds nothing under ZDR finds this.
    assert server.find_marker(canary)
