"""Workspace voices at rest: sealed (names, descriptions, samples, packs), seen by their own
workspace only, and gone, key and all, when deleted or when their workspace is."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sottovoce.audit.markers import audio_marker_forms, audio_marker_pcm
from sottovoce.config import Settings
from sottovoce.errors import NotFound
from sottovoce.privacy.policy import Plan
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.store import voices, workspaces
from sottovoce.store.db import Store
from sottovoce.store.voices import NewSample, NewVoice, VoiceMeta, VoiceStatus
from sottovoce.store.workspace_deletion import delete_workspace
from tests.harness import new_canary

pytestmark = pytest.mark.both_databases


@pytest.fixture
def store(tmp_path: Path, database_url: Callable[[Path], str]) -> Iterator[Store]:
    s = Store.from_settings(Settings(data_dir=tmp_path, database_url=database_url(tmp_path)))
    s.migrate()
    yield s
    s.close()


def new_workspace(store: Store) -> str:
    with store.session() as s:
        return workspaces.create(s, "w", Plan.FREE, False).id


def new_voice(store: Store, workspace_id: str, marker: str) -> str:
    voice = NewVoice(
        workspace_id=workspace_id,
        category="cloned",
        model_id="local/kokoro",
        meta=Sensitive(VoiceMeta(f"name {marker}", f"about {marker}", {"x": marker})),
        samples=(NewSample(f"{marker}.wav", "audio/wav", Sensitive(audio_marker_pcm(marker))),),
        status=VoiceStatus.QUEUED,
    )
    with store.session() as s:
        return voices.create(s, voice)


def raw_files(store: Store, tmp_path: Path) -> bytes:
    store.checkpoint()
    return b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())


def found_in(data: bytes, marker: str) -> bool:
    forms = [marker.encode(), *audio_marker_forms(marker).values()]
    return any(form in data for form in forms)


def test_a_voice_is_sealed_and_its_own_workspace_sees_it(store: Store, tmp_path: Path) -> None:
    marker = new_canary()
    workspace_id = new_workspace(store)
    voice_id = new_voice(store, workspace_id, marker)
    with store.session() as s:
        stored = voices.get(s, workspace_id, voice_id)
        assert stored.meta.reveal().name == f"name {marker}"
        assert stored.status is VoiceStatus.QUEUED
        assert [v.id for v in voices.list_all(s, workspace_id)] == [voice_id]
        assert voices.samples(s, workspace_id, voice_id)[0].reveal() == audio_marker_pcm(marker)
        assert voices.pack(s, workspace_id, voice_id) is None  # not ready yet
    if store.is_sqlite:
        assert not found_in(raw_files(store, tmp_path), marker)


def test_other_workspaces_never_see_it(store: Store) -> None:
    owner, other = new_workspace(store), new_workspace(store)
    voice_id = new_voice(store, owner, new_canary())
    with store.session() as s:
        assert voices.list_all(s, other) == []
        with pytest.raises(NotFound):
            voices.get(s, other, voice_id)
        with pytest.raises(NotFound):
            voices.delete(s, other, voice_id)
        assert voices.get(s, owner, voice_id).id == voice_id


def test_a_finished_voice_has_its_pack(store: Store) -> None:
    workspace_id = new_workspace(store)
    voice_id = new_voice(store, workspace_id, new_canary())
    with store.session() as s:
        assert voices.set_progress(s, voice_id, VoiceStatus.RUNNING, 0.5)
        assert voices.finish(s, workspace_id, voice_id, Sensitive(b"pack"), "local/piper")
    with store.session() as s:
        pack = voices.pack(s, workspace_id, voice_id)
        assert pack is not None and pack.reveal() == b"pack"
        assert voices.interrupted(s) == []
        assert voices.get(s, workspace_id, voice_id).model_id == "local/piper"


def test_delete_destroys_voice_samples_and_key(store: Store, tmp_path: Path) -> None:
    marker = new_canary()
    workspace_id = new_workspace(store)
    voice_id = new_voice(store, workspace_id, marker)
    with store.session() as s:
        voices.delete(s, workspace_id, voice_id)
    with store.session() as s:
        assert voices.list_all(s, workspace_id) == []
        assert not voices.set_progress(s, voice_id, VoiceStatus.RUNNING, 0.9)
    assert store.keystore.item_keys(workspace_id, [voice_id]) == {}
    if store.is_sqlite:
        assert not found_in(raw_files(store, tmp_path), marker)


def test_deleting_the_workspace_deletes_its_voices(store: Store) -> None:
    workspace_id = new_workspace(store)
    voice_id = new_voice(store, workspace_id, new_canary())
    with store.session() as s:
        delete_workspace(s, workspace_id, keep_billing_totals=False)
    with store.session() as s:
        assert voices.list_all(s, workspace_id) == []
        assert not voices.exists(s, workspace_id, voice_id)
        assert voices.count(s, workspace_id) == 0
