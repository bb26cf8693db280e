"""Every upstream speech client against a second real sottovoce serving its vendor's API.

The shared server plays AssemblyAI, Deepgram, Groq and OpenAI, ElevenLabs and Cartesia on
127.0.0.1 (its own surfaces for those APIs), with a zero-retention account. Each client
transcribes known speech or speaks a known text through it, file and live; then each one meets
a stopped provider, a silent one, one that answers 500 with a canary in its body, and one that
hangs up mid-stream (``misbehaving.py``), and must fail with a typed error that never carries
what the provider said.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, TypeVar

import numpy as np
import pytest

from sottovoce.config import Settings, SpeechProvider
from sottovoce.engines.base import (
    AudioChunk,
    StreamEventKind,
    StreamOptions,
    SynthesisRequest,
    TranscriptionRequest,
)
from sottovoce.engines.upstream_speech import upstream_speech_engines
from sottovoce.engines.upstream_stt import UpstreamTranscriber
from sottovoce.engines.upstream_tts import UpstreamSynthesizer
from sottovoce.errors import InvalidRequest, UpstreamFailed, UpstreamTimeout
from sottovoce.privacy.providers import Mode
from sottovoce.privacy.sensitive import Sensitive
from tests.api.tts_audio import assert_speech
from tests.engines.misbehaving import HttpProvider, SocketDropper
from tests.harness import Creds, RunningServer, free_port
from tests.spoken import resample, speak, word_edits, words_of

FOX = "The quick brown fox jumps over the lazy dog."
T = TypeVar("T")

# kind -> (transcription model, speech model), as the provider spells them.
MODELS: dict[str, tuple[str | None, str | None]] = {
    "assemblyai": ("universal", None),
    "deepgram": ("nova-3", "aura-2-thalia-en"),
    "groq": ("whisper-large-v3", None),
    "openai": ("whisper-1", "tts-1"),
    "elevenlabs": ("scribe_v1", "eleven_flash_v2_5"),
    "cartesia": (None, "sonic-2"),
}
FILE_STT = ["assemblyai", "deepgram", "groq", "openai", "elevenlabs"]
LIVE_STT = ["assemblyai", "deepgram"]
TTS = ["deepgram", "openai", "elevenlabs", "cartesia"]


@pytest.fixture(scope="module")
def account(server: RunningServer) -> Creds:
    """The provider account: zero retention, so the provider keeps nothing of the tests."""
    return server.create_workspace("provider-account", zdr=True)


def provider(kind: str, base: str, key: str, **more: Any) -> SpeechProvider:
    stt, tts = MODELS[kind]
    return SpeechProvider(
        kind=kind,  # type: ignore[arg-type]
        base_url=base + ("/v1" if kind in ("groq", "openai") else ""),
        api_key=key,
        stt_models=(stt,) if stt else (),
        tts_models=(tts,) if tts else (),
        **more,
    )


def engines(p: SpeechProvider) -> list[UpstreamTranscriber | UpstreamSynthesizer]:
    return upstream_speech_engines(Settings.model_validate({"speech": {"providers": [p]}}))


def transcriber(p: SpeechProvider) -> UpstreamTranscriber:
    return next(e for e in engines(p) if isinstance(e, UpstreamTranscriber))


def synthesizer(p: SpeechProvider) -> UpstreamSynthesizer:
    return next(e for e in engines(p) if isinstance(e, UpstreamSynthesizer))


def run(engine: UpstreamTranscriber | UpstreamSynthesizer, work: Callable[[], Awaitable[T]]) -> T:
    async def go() -> T:
        try:
            return await work()
        finally:
            await engine.link.aclose()

    return asyncio.run(go())


def fox_samples() -> bytes:
    samples = resample(speak(FOX), 16000).astype(np.float32) / 32768
    return samples.astype("<f4").tobytes()


def transcribe(engine: UpstreamTranscriber, zero_retention: bool = True) -> str:
    request = TranscriptionRequest(Sensitive(fox_samples()), zero_retention=zero_retention)
    return run(engine, lambda: engine.transcribe(request)).reveal().text


def live(engine: UpstreamTranscriber, audio: bytes) -> str:
    """Audio in pieces of 0.1 s, then the end of input: every committed transcript."""

    async def session() -> str:
        stream = engine.open_stream(StreamOptions(partial_interval=0))
        heard = []
        step = 1600 * 4
        for start in range(0, len(audio), step):
            heard += await stream.feed(Sensitive(audio[start : start + step]))
        heard += await stream.close()
        assert all(e.kind is StreamEventKind.COMMITTED for e in heard)
        return " ".join(e.transcript.reveal().text for e in heard)

    return run(engine, session)


def spoken(engine: UpstreamSynthesizer, mode: Mode, text: str = FOX) -> bytes:
    request = SynthesisRequest(Sensitive(text), "joe", mode=mode, zero_retention=True)

    async def collect() -> bytes:
        chunks: AsyncIterator[AudioChunk] = engine.synthesize(request)
        return b"".join([c.pcm.reveal() async for c in chunks])

    return run(engine, collect)


# Against a real provider (a second sottovoce) -----------------------------------------------


@pytest.mark.parametrize("kind", FILE_STT)
def test_files_are_transcribed_upstream(server: RunningServer, account: Creds, kind: str) -> None:
    heard = transcribe(transcriber(provider(kind, server.url, account.api_key)))
    assert word_edits(words_of(FOX), words_of(heard)) <= 1, heard


@pytest.mark.parametrize("kind", LIVE_STT)
def test_live_audio_is_transcribed_upstream(
    server: RunningServer, account: Creds, kind: str
) -> None:
    silence = np.zeros(16000, dtype="<f4").tobytes()
    heard = live(transcriber(provider(kind, server.url, account.api_key)), fox_samples() + silence)
    assert word_edits(words_of(FOX), words_of(heard)) <= 1, heard


@pytest.mark.parametrize("mode", list(Mode))
@pytest.mark.parametrize("kind", TTS)
def test_speech_is_made_upstream(
    server: RunningServer, account: Creds, kind: str, mode: Mode
) -> None:
    pcm = spoken(synthesizer(provider(kind, server.url, account.api_key)), mode)
    assert_speech(np.frombuffer(pcm, "<i2").astype(np.float64), 24000, FOX)


def test_file_only_providers_refuse_live_audio(server: RunningServer, account: Creds) -> None:
    engine = transcriber(provider("groq", server.url, account.api_key))
    assert engine.info.modes == (Mode.SYNC,)
    with pytest.raises(InvalidRequest):
        engine.open_stream(StreamOptions())


# Failures -----------------------------------------------------------------------------------

CLIENTS = [
    *(("file", kind) for kind in FILE_STT),
    *(("live", kind) for kind in [*LIVE_STT, "soniox"]),
    *(("speak-sync", kind) for kind in TTS),
    *(("speak-stream", kind) for kind in TTS),
]


def call(client: str, kind: str, p: SpeechProvider) -> None:
    if client == "file":
        transcribe(transcriber(p))
    elif client == "live":
        live(transcriber(p), fox_samples()[: 16000 * 4])
    else:
        spoken(synthesizer(p), Mode.SYNC if client == "speak-sync" else Mode.STREAMING)


def soniox(kind: str, url: str, key: str, **more: Any) -> SpeechProvider:
    """Soniox has no sottovoce surface: it is only ever failed here."""
    if kind != "soniox":
        return provider(kind, url, key, **more)
    return SpeechProvider(
        kind="soniox", base_url=url, api_key=key, stt_models=("stt-rt-v3",), **more
    )


@pytest.fixture(scope="module")
def misbehaving(canary_module: str) -> Iterator[dict[str, Any]]:
    made: dict[str, Any] = {
        "error": HttpProvider("error", canary_module),
        "silent": HttpProvider("silent"),
        "drop": HttpProvider("drop"),
        "socket_drop": SocketDropper(),
    }
    yield made
    for server in made.values():
        server.close()


@pytest.fixture(scope="module")
def canary_module() -> str:
    from tests.harness import new_canary

    return new_canary()


@pytest.mark.parametrize(("client", "kind"), CLIENTS)
def test_a_stopped_provider_is_a_502(client: str, kind: str) -> None:
    with pytest.raises(UpstreamFailed) as failed:
        call(client, kind, soniox(kind, f"http://127.0.0.1:{free_port()}", "sv_key"))
    assert "could not be reached" in failed.value.message


@pytest.mark.parametrize(("client", "kind"), CLIENTS)
def test_a_silent_provider_is_a_504(misbehaving: dict[str, Any], client: str, kind: str) -> None:
    with pytest.raises(UpstreamTimeout):
        call(client, kind, soniox(kind, misbehaving["silent"].url, "sv_key", timeout_s=0.3))


@pytest.mark.parametrize(("client", "kind"), CLIENTS)
def test_an_error_reply_is_a_502_that_never_repeats_its_body(
    misbehaving: dict[str, Any], canary_module: str, client: str, kind: str
) -> None:
    with pytest.raises(UpstreamFailed) as failed:
        call(client, kind, soniox(kind, misbehaving["error"].url, "sv_key"))
    assert "HTTP 500" in failed.value.message
    assert canary_module not in repr(failed.value) + str(failed.value.__cause__)


@pytest.mark.parametrize(("client", "kind"), CLIENTS)
def test_a_provider_hanging_up_mid_stream_is_a_502(
    misbehaving: dict[str, Any], client: str, kind: str
) -> None:
    url = misbehaving["drop"].url
    streaming = misbehaving["socket_drop"].url
    with pytest.raises(UpstreamFailed) as failed:
        call(client, kind, soniox(kind, url, "sv_key", streaming_url=streaming))
    assert "ended the stream early" in failed.value.message


# Soniox, whose API no sottovoce serves: its protocol as Soniox documents it --------------------


class SonioxLike:
    """Soniox's real-time socket as its API reference describes it, with fixed words: tokens
    (pieces of words, spaces included) non-final while audio comes, final ones and ``<fin>`` on
    ``finalize``, the rest and ``finished: true`` on the empty frame that ends the stream."""

    def __init__(self) -> None:
        from websockets.sync.server import ServerConnection, serve

        self.configs: list[dict[str, Any]] = []
        self.keys: list[str | None] = []

        def token(text: str, start: int, final: bool) -> dict[str, Any]:
            return {"text": text, "start_ms": start, "end_ms": start + 200, "is_final": final}

        def handler(ws: ServerConnection) -> None:
            import json

            self.keys.append(ws.request.headers.get("Authorization") if ws.request else None)
            self.configs.append(json.loads(ws.recv()))
            first = [token("Hel", 0, True), token("lo", 200, True), token(" there", 400, True)]
            for message in ws:
                if message == b"":
                    rest = [token(" again", 900, True)]
                    ws.send(json.dumps({"tokens": rest, "finished": True}))
                    ws.close()
                    return
                if isinstance(message, bytes):
                    ws.send(json.dumps({"tokens": [token(" hel", 0, False)]}))
                elif json.loads(message).get("type") == "finalize":
                    ws.send(json.dumps({"tokens": [*first, token("<fin>", 600, True)]}))

        self.server = serve(handler, "127.0.0.1", 0)
        self.url = f"ws://127.0.0.1:{self.server.socket.getsockname()[1]}"
        import threading

        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_the_soniox_client_speaks_sonioxs_documented_protocol() -> None:
    fake = SonioxLike()
    try:
        p = SpeechProvider(
            kind="soniox",
            base_url="https://api.soniox.example",
            streaming_url=fake.url,
            api_key="soniox-key",
            stt_models=("stt-rt-v3",),
        )
        engine = transcriber(p)

        async def session() -> tuple[str, str, list[str]]:
            stream = engine.open_stream(StreamOptions(language="en"))
            await stream.feed(Sensitive(np.zeros(3200, "<f4").tobytes()))
            committed = (await stream.commit()).transcript.reveal()
            last = [e.transcript.reveal().text for e in await stream.close()]
            return committed.text, " ".join(w.text for w in committed.words), last

        text, spaced, last = run(engine, session)
        assert (text, spaced) == ("Hello there", " Hello  there")
        assert last == ["again"]
        assert fake.keys == ["Bearer soniox-key"]
        config = fake.configs[0]
        assert (config["model"], config["audio_format"], config["sample_rate"]) == (
            "stt-rt-v3",
            "pcm_s16le",
            16000,
        )
        assert config["num_channels"] == 1 and config["language_hints"] == ["en"]
    finally:
        fake.server.shutdown()
