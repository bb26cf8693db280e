"""Speech routed to upstream providers, end to end: a front sottovoce whose speech providers are
a second real sottovoce (the shared server) under several names and declarations.

The rule under test: a zero-retention request reaches a provider only when the provider's
declaration covers the request's mode (AssemblyAI: streaming only), unless the workspace admin
allowed uncovered providers, and every response says who saw the content and what they declare.
Also: fallback chains that obey the same rule, upstream failures as clean 502/504 in each
vendor's shape (an error body quoting a canary is never repeated nor logged), the switch that
keeps ElevenLabs clean (``enable_logging=false``) proven by its negative control, and nothing
left on either server under zero retention.
"""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.api.deepgram.test_listen import pcm16k
from tests.conftest import ServerFactory
from tests.engines.misbehaving import HttpProvider
from tests.harness import Creds, RunningServer, free_port, new_canary
from tests.polling import wait_for
from tests.spoken import pcm_wav, word_edits, words_of

FOX = "The quick brown fox jumps over the lazy dog."
ZDR = "zdr-by-agreement"


class Setup:
    def __init__(self, upstream: RunningServer, start_server: ServerFactory, leaky: str) -> None:
        self.upstream = upstream
        zdr_key = upstream.create_workspace("provider-zdr", zdr=True).api_key
        self.counted = upstream.create_workspace("provider-counted", zdr=True)
        self.open_account = upstream.create_workspace("provider-open")

        def p(name: str, kind: str, key: str = zdr_key, **more: Any) -> dict[str, Any]:
            base = more.pop("base_url", upstream.url)
            return {
                "name": name,
                "kind": kind,
                "base_url": base + ("/v1" if kind in ("openai", "groq") else ""),
                "api_key": key,
                **more,
            }

        down = f"http://127.0.0.1:{free_port()}"
        self.providers = [
            p("assemblyai", "assemblyai", stt_models=["universal"]),
            p("counted-assemblyai", "assemblyai", self.counted.api_key, stt_models=["universal"]),
            p("deepgram", "deepgram", stt_models=["nova-3"], tts_models=["aura-2-thalia-en"]),
            p("agreed", "openai", stt_models=["whisper-1"], retention_sync=ZDR),
            p("openai", "openai", stt_models=["whisper-1"]),
            p("elevenlabs", "elevenlabs", self.open_account.api_key, tts_models=["eleven_v3"]),
            p("stopped", "deepgram", base_url=down, stt_models=["nova-3"], tts_models=["aura-y"]),
            p("down", "deepgram", base_url=down, stt_models=["nova-3"], tts_models=["aura-x"]),
            p("slow", "deepgram", stt_models=["nova-3"], timeout_s=0.05),
            p("leaky", "deepgram", base_url=leaky, stt_models=["nova-3"]),
        ]
        fallbacks = {
            "stopped/nova-3": ["openai/whisper-1", "deepgram/nova-3"],
            "stopped/aura-y": ["deepgram/aura-2-thalia-en"],
        }
        self.front = start_server(
            env={
                "SOTTOVOCE_SPEECH__PROVIDERS": json.dumps(self.providers),
                "SOTTOVOCE_SPEECH__FALLBACK_MODELS": json.dumps(fallbacks),
            }
        )

    def workspace(self, *, zdr: bool, allow_uncovered: bool = False) -> Creds:
        creds = self.front.create_workspace("zdr" if zdr else "plain", zdr=zdr)
        if allow_uncovered:
            patched = httpx.patch(
                f"{self.front.url}/v1/workspace",
                headers={"Authorization": f"Bearer {creds.api_key}"},
                json={"allow_uncovered_providers": True},
            )
            assert patched.status_code == 200, patched.text
        return creds


@pytest.fixture(scope="module")
def leaky_canary() -> str:
    return new_canary()


@pytest.fixture(scope="module")
def setup(server: RunningServer, start_server: ServerFactory, leaky_canary: str) -> Iterator[Setup]:
    leaky = HttpProvider("error", leaky_canary)
    yield Setup(server, start_server, leaky.url)
    leaky.close()


def token(creds: Creds) -> dict[str, str]:
    return {"Authorization": f"Token {creds.api_key}"}


def listen(setup: Setup, creds: Creds, model: str, audio: bytes | None = None) -> httpx.Response:
    return httpx.post(
        f"{setup.front.url}/v1/listen",
        params={"model": model},
        headers=token(creds),
        content=audio or pcm_wav(pcm16k(FOX)),
        timeout=120,
    )


def listen_live(setup: Setup, creds: Creds, model: str) -> list[dict[str, Any]]:
    """A live session through the front's Deepgram socket: every message until the close."""
    url = f"{setup.front.ws_url}/v1/listen?model={model}&encoding=linear16&sample_rate=16000"
    messages = []
    with connect(url, additional_headers=token(creds)) as ws:
        # A session whose provider cannot be reached may end before the audio is sent: what it
        # said before its close is still read below.
        with contextlib.suppress(ConnectionClosed):
            ws.send(pcm16k(FOX, pause=0.5))
            ws.send(json.dumps({"type": "CloseStream"}))
        while (message := json.loads(ws.recv(timeout=120)))["type"] not in ("Metadata", "Error"):
            messages.append(message)
        messages.append(message)
    return messages


def heard(messages: list[dict[str, Any]]) -> list[str]:
    finals = [m for m in messages if m["type"] == "Results" and m["is_final"]]
    return words_of(" ".join(m["channel"]["alternatives"][0]["transcript"] for m in finals))


# The rule ---------------------------------------------------------------------------------------


def test_assemblyai_files_are_refused_under_zdr_and_its_streaming_is_served(setup: Setup) -> None:
    creds = setup.workspace(zdr=True)
    model = "counted-assemblyai/universal"
    refused = listen(setup, creds, model)
    assert refused.status_code == 403
    assert (refused.json()["err_code"], refused.json()["error"]["code"]) == (
        "INSUFFICIENT_PERMISSIONS",
        "provider_not_covered",
    )
    upload = httpx.post(
        f"{setup.front.url}/v2/upload",
        headers={"Authorization": creds.api_key},
        content=pcm_wav(pcm16k(FOX)),
    ).json()["upload_url"]
    async_refused = httpx.post(
        f"{setup.front.url}/v2/transcript",
        headers={"Authorization": creds.api_key},
        json={"audio_url": upload, "speech_model": model},
    )
    assert (async_refused.status_code, async_refused.json()["code"]) == (
        403,
        "provider_not_covered",
    )
    inworld = httpx.post(
        f"{setup.front.url}/stt/v1/transcribe",
        headers={"Authorization": f"Basic {creds.api_key}"},
        json={
            "transcribeConfig": {"modelId": model},
            "audioData": {"content": base64.b64encode(pcm_wav(pcm16k("Hi."))).decode()},
        },
    )
    assert (inworld.status_code, inworld.json()["code"]) == (403, 7)
    # Streaming is covered: the session goes upstream and comes back with the words.
    assert word_edits(words_of(FOX), heard(listen_live(setup, creds, model))) <= 1
    # The provider metered that one session and nothing else: no refused file ever reached it.
    records = setup.upstream.wait_for_usage(setup.counted.workspace_id, 1, "stt")
    assert [r.status_code for r in records] == [101]


def test_an_admin_may_allow_uncovered_providers_and_the_reply_says_so(setup: Setup) -> None:
    creds = setup.workspace(zdr=True, allow_uncovered=True)
    reply = listen(setup, creds, "assemblyai/universal")
    assert reply.status_code == 200, reply.text
    assert reply.headers["x-sottovoce-retention"] == "retains; provider=assemblyai; mode=sync"
    assert reply.headers["x-sottovoce-retention-covered"] == "false"
    covered = listen(setup, creds, "deepgram/nova-3")
    assert covered.headers["x-sottovoce-retention"] == "none; provider=deepgram; mode=sync"
    assert "x-sottovoce-retention-covered" not in covered.headers


def test_an_agreement_shows_in_the_header_and_the_model_list(setup: Setup) -> None:
    zdr, plain = setup.workspace(zdr=True), setup.workspace(zdr=False)
    reply = listen(setup, zdr, "agreed/whisper-1")
    assert reply.status_code == 200
    assert reply.headers["x-sottovoce-retention"] == f"{ZDR}; provider=agreed; mode=sync"
    assert (
        word_edits(
            words_of(FOX),
            words_of(reply.json()["results"]["channels"][0]["alternatives"][0]["transcript"]),
        )
        <= 1
    )

    def view(creds: Creds, **params: str) -> dict[str, Any]:
        listing = httpx.get(
            f"{setup.front.url}/v1/models",
            params=params,
            headers={"Authorization": f"Bearer {creds.api_key}"},
        ).json()
        return {m["id"]: m for m in listing["data"]}

    models = view(zdr)
    agreed = models["agreed/whisper-1"]
    assert (agreed["capability"], agreed["modes"]) == ("stt", ["sync"])
    assert agreed["retention"] == {"sync": ZDR} and agreed["usable"] == {"sync": True}
    assert models["assemblyai/universal"]["usable"] == {"sync": False, "streaming": True}
    assert models["openai/whisper-1"]["usable"] == {"sync": False}
    assert models["deepgram/aura-2-thalia-en"]["capability"] == "tts"
    assert models["local/whisper-base"]["usable"] == {"sync": True, "streaming": True}
    assert all(all(m["usable"].values()) for m in view(plain).values())
    per_request = view(plain, enable_logging="false")
    assert per_request["assemblyai/universal"]["usable"] == {"sync": False, "streaming": True}


def test_a_fallback_serves_a_down_provider_within_the_rule(setup: Setup) -> None:
    for zdr, served in ((False, "openai"), (True, "deepgram")):
        reply = listen(setup, setup.workspace(zdr=zdr), "stopped/nova-3")
        assert reply.status_code == 200, reply.text
        # Under ZDR the first fallback (OpenAI, which retains) may not be used: it is skipped.
        assert f"provider={served};" in reply.headers["x-sottovoce-retention"]
        text = reply.json()["results"]["channels"][0]["alternatives"][0]["transcript"]
        assert word_edits(words_of(FOX), words_of(text)) <= 1
    spoken = httpx.post(
        f"{setup.front.url}/v1/speak",
        params={"model": "stopped/aura-y", "encoding": "linear16", "container": "none"},
        headers=token(setup.workspace(zdr=True)),
        json={"text": FOX},
        timeout=120,
    )
    assert spoken.status_code == 200, spoken.text
    assert "provider=deepgram;" in spoken.headers["x-sottovoce-retention"]
    assert len(spoken.content) > 24000 * 2  # more than a second of 24 kHz audio


# Failures ---------------------------------------------------------------------------------------


def test_upstream_failures_are_502_and_504_in_each_vendors_shape(
    setup: Setup, leaky_canary: str
) -> None:
    creds = setup.workspace(zdr=True)
    down = listen(setup, creds, "down/nova-3")
    assert (down.status_code, down.json()["err_code"]) == (502, "BAD_GATEWAY")
    assert down.json()["error"]["code"] == "upstream_error"
    slow = listen(setup, creds, "slow/nova-3")
    assert (slow.status_code, slow.json()["err_code"]) == (504, "GATEWAY_TIMEOUT")
    leaky = listen(setup, creds, "leaky/nova-3")
    assert leaky.status_code == 502 and "HTTP 500" in leaky.json()["err_msg"]
    assert leaky_canary not in leaky.text
    inworld = httpx.post(
        f"{setup.front.url}/stt/v1/transcribe",
        headers={"Authorization": f"Basic {creds.api_key}"},
        json={
            "transcribeConfig": {"modelId": "down/nova-3"},
            "audioData": {"content": base64.b64encode(pcm_wav(pcm16k("Hi."))).decode()},
        },
    )
    assert (inworld.status_code, inworld.json()["code"]) == (502, 14)
    speak = httpx.post(
        f"{setup.front.url}/v1/speak",
        params={"model": "down/aura-x"},
        headers=token(creds),
        json={"text": "Hello."},
    )
    assert (speak.status_code, speak.json()["err_code"]) == (502, "BAD_GATEWAY")
    error = listen_live(setup, creds, "down/nova-3")[-1]
    assert (error["type"], error["err_code"]) == ("Error", "BAD_GATEWAY")
    # The provider's error body (the canary) reached no log and no file of the front.
    setup.front.wait_for_usage(creds.workspace_id, 5, "stt")
    assert setup.front.find_marker(leaky_canary) == []


# What is kept -------------------------------------------------------------------------------------


def tts(setup: Setup, creds: Creds, model: str, text: str, *, stream: bool) -> None:
    reply = httpx.post(
        f"{setup.front.url}/v1/text-to-speech/joe" + ("/stream" if stream else ""),
        params={"output_format": "pcm_16000"},
        headers={"xi-api-key": creds.api_key},
        json={"text": text, "model_id": model},
        timeout=120,
    )
    assert reply.status_code == 200, reply.text
    assert reply.headers["x-sottovoce-retention"].endswith(
        "mode=streaming" if stream else "mode=sync"
    )
    assert len(reply.content) > 16000


def test_elevenlabs_keeps_nothing_because_sottovoce_says_enable_logging_false(
    setup: Setup,
) -> None:
    """The provider account keeps history; under ZDR the front tells it not to, with
    ElevenLabs' own switch, and only then does it keep nothing (the negative control)."""
    model = "elevenlabs/eleven_v3"
    secret, control = new_canary(), new_canary()
    creds = setup.workspace(zdr=True)
    for stream in (False, True):
        tts(setup, creds, model, f"Hello {secret}.", stream=stream)
    tts(setup, setup.workspace(zdr=False), model, f"Hello {control}.", stream=False)
    wait_for(lambda: setup.upstream.find_marker(control), "the control in the provider's history")
    assert setup.upstream.find_marker(secret) == []
    assert setup.front.find_marker(secret) == []


def test_zero_retention_through_providers_leaves_no_trace_on_either_server(
    setup: Setup, canary: str
) -> None:
    creds = setup.workspace(zdr=True)
    tts(setup, creds, "deepgram/aura-2-thalia-en", f"Hello {canary}.", stream=False)
    url = f"{setup.front.ws_url}/v1/speak?model=deepgram/aura-2-thalia-en&encoding=linear16"
    with connect(url, additional_headers=token(creds)) as ws:
        ws.recv(timeout=30)
        ws.send(json.dumps({"type": "Speak", "text": f"Hi {canary}."}))
        ws.send(json.dumps({"type": "Flush"}))
        while isinstance(message := ws.recv(timeout=120), bytes):
            pass
        assert json.loads(message)["type"] == "Flushed"
    assert listen(setup, creds, "deepgram/nova-3").status_code == 200
    assert heard(listen_live(setup, creds, "assemblyai/universal"))
    setup.front.wait_for_usage(creds.workspace_id, 2, "stt")
    history = httpx.get(f"{setup.front.url}/v1/history", headers=token(creds)).json()["history"]
    assert history == []
    assert setup.front.find_marker(canary) == []
    assert setup.upstream.find_marker(canary) == []
