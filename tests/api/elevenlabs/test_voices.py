"""Voices through the ElevenLabs SDK: the built-in library, approximate voice matching as a
background job with progress, voice design, deletion (crypto-shredded at once), workspace
isolation and deletion, and the 403 under zero retention."""

from __future__ import annotations

import base64
import subprocess
import sys
from collections.abc import Iterator

import httpx
import numpy as np
import pytest
from elevenlabs.client import ElevenLabs
from elevenlabs.core.api_error import ApiError

from sottovoce.audit.markers import audio_marker_pcm
from tests.api.tts_audio import decode, heard
from tests.harness import Creds, RunningServer
from tests.spoken import Clip, encode, speak, word_edits, words_of

SAID = "Please bring the yellow basket."
PREVIEW = "gv_WzAuMDUsIFswLjI1LCAwLjI1LCAwLjI1LCAwLjI1XSwgMS4wXQ=="
"""A designed voice's preview id (a female blend at normal pace)."""


@pytest.fixture
def eleven(server: RunningServer, workspace: Creds) -> Iterator[ElevenLabs]:
    with httpx.Client(timeout=120) as http:
        yield ElevenLabs(api_key=workspace.api_key, base_url=server.url, httpx_client=http)


def sample(canary: str) -> bytes:
    """Joe speaking, then the canary's own samples: a WAV whose bytes carry them as they are."""
    clip = speak("The garden was quiet this morning, and the river was calm.")
    marked = np.concatenate([clip.samples, np.frombuffer(audio_marker_pcm(canary), "<i2")])
    return encode(Clip(marked.astype(np.int16), clip.rate), "wav")


def tuning(eleven: ElevenLabs, voice_id: str) -> tuple[str, float]:
    voice = eleven.voices.get(voice_id)
    assert voice.fine_tuning is not None
    state, progress = voice.fine_tuning.state, voice.fine_tuning.progress
    assert state is not None and progress is not None
    # Keyed by the model that speaks the voice: Kokoro while matching, then the match's base.
    assert len(state) == 1
    (model,) = state
    return str(state[model]), progress[model] or 0.0


def cli_wait(server: RunningServer, key: str, voice_id: str) -> subprocess.CompletedProcess[str]:
    """``sottovoce voices wait``: polls the voice, drawing its progress, until it is done."""
    return subprocess.run(
        [sys.executable, "-m", "sottovoce", "voices", "wait", voice_id,
         "--url", server.url, "--api-key", key, "--timeout", "240"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_the_library_lists_two_women_and_two_men_with_their_metadata(eleven: ElevenLabs) -> None:
    voices = eleven.voices.get_all().voices
    labels = {v.name: v.labels or {} for v in voices}
    assert {"Joe", "Heart", "Kumo", "Alpha"} <= set(labels)
    assert [labels[n]["gender"] for n in ("Joe", "Kumo", "Heart", "Alpha")] == [
        "male", "male", "female", "female"
    ]  # fmt: skip
    for name in labels:
        assert {"age", "accent", "engine", "licence", "description"} <= set(labels[name])
    page = eleven.voices.search(search="heart", category="premade")
    assert [v.name for v in page.voices] == ["Heart"]


def test_a_matched_voice_is_made_in_the_background_used_and_deleted(
    server: RunningServer, workspace: Creds, eleven: ElevenLabs, canary: str
) -> None:
    added = eleven.voices.ivc.create(
        name=f"Me {canary}",
        files=[(f"{canary}.wav", sample(canary), "audio/wav")],
        description=f"my voice {canary}",
        labels={"accent": "british", "gender": "male"},
    )
    state, progress = tuning(eleven, added.voice_id)
    assert state in ("queued", "fine_tuning", "fine_tuned") and 0 <= progress <= 1
    waited = cli_wait(server, workspace.api_key, added.voice_id)
    assert waited.returncode == 0, waited.stderr[-2000:]
    assert '"state": "fine_tuned"' in waited.stdout
    assert "matching" in waited.stderr and "100%" in waited.stderr
    assert tuning(eleven, added.voice_id) == ("fine_tuned", 1.0)
    voice = eleven.voices.get(added.voice_id)
    assert (voice.name, voice.category) == (f"Me {canary}", "cloned")
    assert voice.labels and voice.labels["method"] == "approximate voice matching"
    # The samples are sealed: only the decrypted voice holds them.
    server.store.checkpoint()
    assert all("(decrypted)" in place for place in server.find_audio_marker(canary))
    assert server.find_audio_marker(canary)
    audio = b"".join(eleven.text_to_speech.convert(added.voice_id, text=SAID))
    assert (
        word_edits(words_of(SAID), words_of(heard(server.url, workspace.api_key, audio, "a.mp3")))
        <= 1
    )

    eleven.voices.delete(added.voice_id)
    with pytest.raises(ApiError) as missing:
        eleven.voices.get(added.voice_id)
    assert missing.value.status_code == 404
    server.store.checkpoint()
    assert server.find_audio_marker(canary) == []
    assert server.find_marker(canary) == []


def test_speaking_before_the_voice_is_ready_says_so(
    server: RunningServer, workspace: Creds, eleven: ElevenLabs
) -> None:
    added = eleven.voices.ivc.create(name="Soon", files=[("a.wav", sample("x"), "audio/wav")])
    r = httpx.post(
        f"{server.url}/v1/text-to-speech/{added.voice_id}",
        headers={"xi-api-key": workspace.api_key},
        json={"text": "Hello."},
        timeout=60,
    )
    assert r.status_code in (200, 409)  # 409 while its job runs
    if r.status_code == 409:
        assert r.json()["error"]["code"] == "voice_not_ready"
    eleven.voices.delete(added.voice_id)  # its job stops at its next step


def test_designed_voices_come_from_a_description(
    server: RunningServer, workspace: Creds, eleven: ElevenLabs, canary: str
) -> None:
    design = eleven.text_to_voice.design(
        voice_description=f"A deep, calm old man {canary}", text="Good morning."
    )
    assert len(design.previews) == 3
    assert len({p.generated_voice_id for p in design.previews}) == 3
    assert all(canary not in p.generated_voice_id for p in design.previews)
    codec, _, samples = decode(base64.b64decode(design.previews[0].audio_base_64))
    assert codec.startswith("mp3") and samples.size > 0
    saved = eleven.text_to_voice.create(
        voice_name=f"Grandpa {canary}",
        voice_description=f"A deep, calm old man {canary}",
        generated_voice_id=design.previews[0].generated_voice_id,
    )
    assert saved.category == "generated"
    found = eleven.voices.search(category="generated", search="grandpa").voices
    assert [v.voice_id for v in found] == [saved.voice_id]
    audio = b"".join(eleven.text_to_speech.convert(saved.voice_id, text=SAID))
    assert (
        word_edits(words_of(SAID), words_of(heard(server.url, workspace.api_key, audio, "a.mp3")))
        <= 1
    )
    server.store.checkpoint()
    # The description is kept with the voice, sealed: found only once decrypted.
    places = server.find_marker(canary)
    assert places and all("(decrypted)" in p for p in places)


@pytest.mark.parametrize("preview", ["gv_nope", PREVIEW.removeprefix("gv_"), "gv_WzAsIFtdLCAxXQ=="])
def test_an_unknown_preview_is_a_404(server: RunningServer, workspace: Creds, preview: str) -> None:
    """A preview id that is not one (malformed, unprefixed, wrong numbers) names no voice."""
    body = {"voice_name": "Mine", "voice_description": "a woman", "generated_voice_id": preview}
    r = httpx.post(
        f"{server.url}/v1/text-to-voice", headers={"xi-api-key": workspace.api_key}, json=body
    )
    assert r.status_code == 404, r.text
    assert r.json()["detail"]["status"] == "voice_not_found"


def test_other_workspaces_never_see_a_workspace_voice(
    server: RunningServer, workspace: Creds, eleven: ElevenLabs
) -> None:
    mine = eleven.text_to_voice.create(
        voice_name="Mine", voice_description="a woman", generated_voice_id=PREVIEW
    )
    other = server.create_workspace("other")
    h = {"xi-api-key": other.api_key}
    listed = httpx.get(f"{server.url}/v1/voices", headers=h).json()["voices"]
    assert mine.voice_id not in [v["voice_id"] for v in listed]
    assert httpx.get(f"{server.url}/v1/voices/{mine.voice_id}", headers=h).status_code == 404
    r = httpx.post(f"{server.url}/v1/text-to-speech/{mine.voice_id}", headers=h,
                   json={"text": "Hi."}, timeout=60)  # fmt: skip
    assert r.status_code == 404
    assert httpx.delete(f"{server.url}/v1/voices/{mine.voice_id}", headers=h).status_code == 404
    assert httpx.delete(f"{server.url}/v1/voices/joe", headers=h).status_code == 403


def test_cloning_and_design_are_refused_under_zdr(
    server: RunningServer, zdr_workspace: Creds, workspace: Creds, canary: str
) -> None:
    files = [("files", (f"{canary}.wav", sample(canary), "audio/wav"))]
    design = {"voice_description": f"a woman {canary}", "text": f"Hello {canary}."}
    save = {"voice_name": canary, "voice_description": canary,
            "generated_voice_id": PREVIEW}  # fmt: skip
    for creds, params in ((zdr_workspace, {}), (workspace, {"enable_logging": "false"})):
        h = {"xi-api-key": creds.api_key}
        for path, kwargs in (
            ("/v1/voices/add", {"files": files, "data": {"name": canary}}),
            ("/v1/text-to-voice/design", {"json": design}),
            ("/v1/text-to-voice", {"json": save}),
        ):
            r = httpx.post(f"{server.url}{path}", headers=h, params=params, timeout=60, **kwargs)
            assert r.status_code == 403, (path, r.text)
            assert r.json()["detail"]["status"] == "not_zdr_eligible"
    server.store.checkpoint()
    assert server.find_marker(canary) == []
    assert server.find_audio_marker(canary) == []


def test_deleting_the_workspace_deletes_its_voices(server: RunningServer, canary: str) -> None:
    creds = server.create_workspace("doomed")
    h = {"xi-api-key": creds.api_key}
    files = [("files", (f"{canary}.wav", sample(canary), "audio/wav"))]
    r = httpx.post(f"{server.url}/v1/voices/add", headers=h, files=files,
                   data={"name": canary}, timeout=60)  # fmt: skip
    assert r.status_code == 200, r.text
    r = httpx.delete(f"{server.url}/v1/workspace", headers=h,
                     params={"confirm": creds.workspace_id})  # fmt: skip
    assert r.status_code == 200, r.text
    server.store.checkpoint()
    assert server.find_marker(canary) == []
    assert server.find_audio_marker(canary) == []
