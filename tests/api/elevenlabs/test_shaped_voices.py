"""A matched voice that starts from another engine's built-in voice and is shaped (pitch,
formants) speaks with its shaping on every path: text-to-speech, its stream and socket, dialogue and
speech-to-speech; and it is still understood."""

from __future__ import annotations

import httpx
import numpy as np
import pytest

from sottovoce.audio.shaping import Shaping
from sottovoce.engines.voices import JOE
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.services.voice_recipe import Recipe
from sottovoce.services.voice_search import median_f0
from sottovoce.store import voices as store
from sottovoce.store.voices import NewVoice, VoiceMeta
from tests.api.elevenlabs.test_tts_socket import audio_of, open_socket, receive_all, send
from tests.api.tts_audio import heard
from tests.harness import Creds, RunningServer
from tests.spoken import Clip, encode, speak, word_edits, words_of

SAID = "Please bring the yellow basket to the garden."
PITCH = 1.35


def made(server: RunningServer, workspace: Creds, recipe: Recipe, name: str = "Shaped") -> str:
    """A ready workspace voice of this recipe, as a finished matching job leaves it."""
    with server.store.session() as session:
        return store.create(
            session,
            NewVoice(
                workspace.workspace_id, "cloned", recipe.base.model_id, Sensitive(VoiceMeta(name)),
                pack=Sensitive(recipe.to_bytes()),
            ),
        )  # fmt: skip


def pitch_of(pcm: bytes) -> float:
    f0 = median_f0(np.frombuffer(pcm, "<i2").astype(np.float32) / 32768)
    assert f0 is not None
    return f0


def spoken(server: RunningServer, key: str, path: str, voice: str) -> bytes:
    """16 kHz PCM of SAID in ``voice`` through one path."""
    h = {"xi-api-key": key}
    q = {"output_format": "pcm_16000"}
    if path == "socket":
        with open_socket(server, Creds("", key), voice=voice) as ws:
            send(ws, {"text": " "}, {"text": SAID + " "}, {"text": ""})
            messages, code = receive_all(ws)
        assert code == 1000
        return audio_of(messages)
    if path in ("tts", "stream"):
        tail = "/stream" if path == "stream" else ""
        url = f"{server.url}/v1/text-to-speech/{voice}{tail}"
        r = httpx.post(url, headers=h, params=q, json={"text": SAID}, timeout=120)
    elif path == "dialogue":
        body = {"inputs": [{"text": SAID, "voice_id": voice}]}
        r = httpx.post(f"{server.url}/v1/text-to-dialogue", headers=h, params=q, json=body,
                       timeout=120)  # fmt: skip
    else:
        files = {"audio": ("in.wav", encode(speak(SAID), "wav"), "audio/wav")}
        r = httpx.post(f"{server.url}/v1/speech-to-speech/{voice}", headers=h, params=q,
                       files=files, timeout=120)  # fmt: skip
    assert r.status_code == 200, r.text[:300]
    return r.content


@pytest.mark.parametrize("path", ["tts", "stream", "socket", "dialogue", "sts"])
def test_a_shaped_voice_speaks_with_its_shaping_on_every_path(
    server: RunningServer, workspace: Creds, path: str
) -> None:
    voice = made(server, workspace, Recipe(JOE, None, Shaping(PITCH, PITCH)))
    plain = pitch_of(spoken(server, workspace.api_key, path, "joe"))
    shaped_pcm = spoken(server, workspace.api_key, path, voice)
    ratio = pitch_of(shaped_pcm) / plain
    assert 1.15 < ratio < 1.6  # unshaped: about 1
    if path == "tts":
        wav = encode_pcm(shaped_pcm)
        assert word_edits(words_of(SAID), words_of(heard(server.url, workspace.api_key, wav))) <= 1


def test_an_unshaped_recipe_speaks_as_its_base_voice(
    server: RunningServer, workspace: Creds
) -> None:
    voice = made(server, workspace, Recipe(JOE))
    plain = pitch_of(spoken(server, workspace.api_key, "tts", "joe"))
    # Piper draws its noise afresh each time: the same voice, not the same samples.
    assert 0.9 < pitch_of(spoken(server, workspace.api_key, "tts", voice)) / plain < 1.1


def encode_pcm(pcm: bytes) -> bytes:
    return encode(Clip(np.frombuffer(pcm, "<i2").copy(), 16000), "wav")


def test_a_voice_on_another_engine_keeps_its_name_out_of_clear_history(
    server: RunningServer, workspace: Creds, canary: str
) -> None:
    # Its recipe carries no Kokoro pack: the name is content all the same.
    voice = made(server, workspace, Recipe(JOE, None, Shaping(1.1, 1.1)), f"Me {canary}")
    for path in ("tts", "dialogue", "sts"):
        spoken(server, workspace.api_key, path, voice)
    server.store.checkpoint()
    found = server.find_marker(canary)
    assert found and all("(decrypted)" in place for place in found)


def test_a_match_on_another_engine_is_listed_with_that_engine(
    server: RunningServer, workspace: Creds
) -> None:
    voice = made(server, workspace, Recipe(JOE, None, Shaping(1.1, 1.1)))
    h = {"xi-api-key": workspace.api_key}
    got = httpx.get(f"{server.url}/v1/voices/{voice}", headers=h, timeout=30).json()
    assert got["labels"]["engine"] == "Piper"
    assert got["labels"]["engine_licence"] == "GPL-3.0"
