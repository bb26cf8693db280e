"""AssemblyAI through the official ``assemblyai`` SDK: the async API (upload, transcript, poll)
and the v3 streaming socket, known speech in, its words out; AssemblyAI's error shape; and the
async transcript under zero retention: held in memory only, gone once fetched, deleted, timed
out or the server restarted."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator

import assemblyai as aai
import httpx
import pytest
from assemblyai.streaming.v3 import (
    StreamingClient,
    StreamingClientOptions,
    StreamingEvents,
    StreamingParameters,
)

from tests.api.deepgram.test_listen import pcm16k
from tests.conftest import ServerFactory
from tests.harness import Creds, RunningServer
from tests.polling import wait_for
from tests.spoken import pcm_wav, word_edits, words_of

FOX = "The quick brown fox jumps over the lazy dog."
# assemblyai 1.8.2 still calls pydantic's v1 methods (``copy``, ``dict``, ``parse_obj``) and
# websockets' ``connect()`` outside a context manager (deprecated in websockets 17).
pytestmark = [
    pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecatedSince20"),
    pytest.mark.filterwarnings(r"ignore:connect\(\) must be used as a context manager"),
]


def headers(creds: Creds) -> dict[str, str]:
    return {"Authorization": creds.api_key}


@contextlib.contextmanager
def sdk(server: RunningServer, key: str) -> Iterator[aai.Transcriber]:
    """The SDK's transcriber with a client of its own (the global settings stay as they are),
    its connection pool closed after."""
    client = aai.Client(settings=aai.types.Settings(base_url=server.url, api_key=key))
    try:
        yield aai.Transcriber(client=client)
    finally:
        client.http_client.close()


def transcribe(server: RunningServer, creds: Creds, **config: object) -> aai.Transcript:
    with sdk(server, creds.api_key) as transcriber:
        return transcriber.transcribe(
            pcm_wav(pcm16k(FOX)), config=aai.TranscriptionConfig(**config)
        )


def test_an_async_transcript_has_the_words(server: RunningServer, workspace: Creds) -> None:
    transcript = transcribe(server, workspace, speaker_labels=True, language_code="en_us")
    assert transcript.status == aai.TranscriptStatus.completed, transcript.error
    assert word_edits(words_of(FOX), words_of(transcript.text or "")) <= 1
    first = transcript.words[0]  # type: ignore[index]
    assert first.text == "The" and 0 <= first.start < first.end < 1000  # milliseconds
    assert transcript.utterances and transcript.utterances[0].speaker == "A"


def test_under_zdr_a_transcript_is_gone_once_fetched(
    server: RunningServer, zdr_workspace: Creds
) -> None:
    done = transcribe(server, zdr_workspace)
    assert done.status == aai.TranscriptStatus.completed
    again = httpx.get(f"{server.url}/v2/transcript/{done.id}", headers=headers(zdr_workspace))
    assert again.status_code == 404
    assert set(again.json()) >= {"error", "code", "request_id"}
    assert isinstance(again.json()["error"], str)
    assert again.json()["code"] == "not_found"


def test_without_zdr_it_is_kept_until_deleted_with_its_history_item(
    server: RunningServer, workspace: Creds
) -> None:
    done = transcribe(server, workspace)
    url = f"{server.url}/v2/transcript/{done.id}"
    assert httpx.get(url, headers=headers(workspace)).json()["text"] == done.text
    history = httpx.get(f"{server.url}/v1/history", headers=headers(workspace)).json()["history"]
    assert [item["text"] for item in history] == [done.text]
    deleted = httpx.delete(url, headers=headers(workspace))
    assert deleted.status_code == 200 and deleted.json()["status"] == "completed"
    assert httpx.get(url, headers=headers(workspace)).status_code == 404
    assert httpx.get(f"{server.url}/v1/history", headers=headers(workspace)).json()["history"] == []


def test_only_an_upload_of_this_server_is_transcribed(
    server: RunningServer, workspace: Creds
) -> None:
    reply = httpx.post(
        f"{server.url}/v2/transcript",
        headers=headers(workspace),
        json={"audio_url": "https://example.com/call.wav"},
    )
    assert reply.status_code == 422
    assert (reply.json()["code"], reply.json()["fields"]) == ("invalid_request", ["audio_url"])
    unknown = httpx.post(
        f"{server.url}/v2/transcript",
        headers=headers(workspace),
        json={"audio_url": f"{server.url}/v2/upload/{'0' * 32}"},
    )
    assert unknown.status_code == 404
    with (
        sdk(server, "sv_wrong") as transcriber,
        pytest.raises(aai.types.TranscriptError) as refused,
    ):
        transcriber.transcribe(pcm_wav(pcm16k("Hi.")))
    assert "A valid API key is required." in str(refused.value)


def test_streaming_turns_end_with_the_words(server: RunningServer, workspace: Creds) -> None:
    heard: list[tuple[str, object]] = []
    client = StreamingClient(
        StreamingClientOptions(
            api_key=workspace.api_key, api_host=server.ws_url, terminate_timeout=120
        )
    )
    client.on(StreamingEvents.Begin, lambda _c, e: heard.append(("begin", e.id)))
    client.on(StreamingEvents.Turn, lambda _c, e: heard.append(("turn", e)))
    client.on(StreamingEvents.Termination, lambda _c, e: heard.append(("end", e)))
    client.on(StreamingEvents.Error, lambda _c, e: heard.append(("error", e)))
    client.connect(StreamingParameters(sample_rate=16000, format_turns=True))
    audio = pcm16k(FOX, pause=0.5)
    client.stream(iter([audio[i : i + 3200] for i in range(0, len(audio), 3200)]))
    client.disconnect(terminate=True)
    assert heard[0][0] == "begin" and heard[-1][0] == "end"
    ends = [e for kind, e in heard if kind == "turn" and e.end_of_turn]  # type: ignore[attr-defined]
    text = " ".join(e.transcript for e in ends)  # type: ignore[attr-defined]
    assert word_edits(words_of(FOX), words_of(text)) <= 1, text
    assert all(e.turn_is_formatted for e in ends)  # type: ignore[attr-defined]


# In memory only ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def brief_memory(start_server: ServerFactory) -> RunningServer:
    """A server whose async transcripts are kept 1 s."""
    server: RunningServer = start_server(env={"SOTTOVOCE_SPEECH__ASYNC_TRANSCRIPT_TTL_S": "1"})
    return server


def submit(server: RunningServer, creds: Creds) -> str:
    upload = httpx.post(
        f"{server.url}/v2/upload", headers=headers(creds), content=pcm_wav(pcm16k("Hello."))
    ).json()["upload_url"]
    reply = httpx.post(
        f"{server.url}/v2/transcript", headers=headers(creds), json={"audio_url": upload}
    )
    assert reply.status_code == 200, reply.text
    return str(reply.json()["id"])


def test_an_unfetched_transcript_times_out_and_is_lost_on_restart(
    brief_memory: RunningServer,
) -> None:
    creds = brief_memory.create_workspace("zdr", zdr=True)
    expired = submit(brief_memory, creds)
    url = f"{brief_memory.url}/v2/transcript/{expired}"
    wait_for(lambda: httpx.get(url, headers=headers(creds)).status_code == 404, "the expiry")
    kept = submit(brief_memory, creds)
    brief_memory.stop()
    again = RunningServer(brief_memory.root, env={"SOTTOVOCE_SPEECH__ASYNC_TRANSCRIPT_TTL_S": "1"})
    try:
        lost = httpx.get(f"{again.url}/v2/transcript/{kept}", headers=headers(creds))
        assert lost.status_code == 404
        assert json.loads(lost.text)["code"] == "not_found"
    finally:
        again.stop()
