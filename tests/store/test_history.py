"""History persistence: saved only when the decision allows, gone from the file when deleted."""

from __future__ import annotations

from pathlib import Path

import pytest

from sottovoce.config import Settings
from sottovoce.errors import NotFound, RetentionViolation
from sottovoce.privacy.eligibility import HistorySource, Product
from sottovoce.privacy.policy import Plan, RequestFlags, WorkspaceRetention, decide
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.store import history, workspaces
from sottovoce.store.db import Store
from sottovoce.store.history import HistoryFilter, NewHistoryItem
from sottovoce.store.schema import HistoryRow
from tests.harness import new_canary

pytestmark = pytest.mark.both_databases

RETAIN = decide(WorkspaceRetention(zdr_enabled=False), RequestFlags(), Product.TTS)
ZERO = decide(
    WorkspaceRetention(zdr_enabled=True, plan=Plan.ENTERPRISE), RequestFlags(), Product.TTS
)
OPT_OUT = decide(WorkspaceRetention(zdr_enabled=False), RequestFlags(store=False), Product.TTS)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "db.sqlite"


@pytest.fixture
def store(db_path: Path) -> Store:
    s = Store.from_settings(Settings(data_dir=db_path.parent, database_url=f"sqlite:///{db_path}"))
    s.migrate()
    return s


@pytest.fixture
def workspace_id(store: Store) -> str:
    with store.session() as s:
        return workspaces.create(s, "w", Plan.FREE, False).id


def item(workspace_id: str, text: str, audio: bytes | None = None) -> NewHistoryItem:
    return NewHistoryItem(
        workspace_id=workspace_id,
        request_id="req_1",
        source=HistorySource.TTS,
        model_id="local/piper",
        voice_id="v1",
        text=Sensitive(text),
        audio=Sensitive(audio) if audio is not None else None,
        content_type="audio/mpeg",
        settings={"speed": 1.0},
    )


def files_bytes(db_path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in db_path.parent.glob(db_path.name + "*"))


@pytest.mark.parametrize("decision", [ZERO, OPT_OUT])
def test_save_refuses_a_decision_that_does_not_allow_retention(
    store: Store, workspace_id: str, db_path: Path, decision: object
) -> None:
    marker = new_canary()
    with pytest.raises(RetentionViolation), store.session() as s:
        history.save(s, decision, item(workspace_id, marker))  # type: ignore[arg-type]
    store.checkpoint()
    assert marker.encode() not in files_bytes(db_path)
    assert marker.encode() not in files_bytes(store.keystore.path)


def test_saved_item_reads_back(store: Store, workspace_id: str) -> None:
    with store.session() as s:
        item_id = history.save(s, RETAIN, item(workspace_id, "hello there", b"ID3audio"))
    with store.session() as s:
        got = history.get(s, workspace_id, item_id)
        audio, content_type = history.get_audio(s, workspace_id, item_id)
    assert got.text is not None and got.text.reveal() == "hello there"
    assert got.character_count == len("hello there") and got.settings == {"speed": 1.0}
    assert (audio.reveal(), content_type) == (b"ID3audio", "audio/mpeg")


def test_another_workspace_cannot_see_the_item(store: Store, workspace_id: str) -> None:
    with store.session() as s:
        other = workspaces.create(s, "other", Plan.FREE, False).id
        item_id = history.save(s, RETAIN, item(workspace_id, "mine"))
    with pytest.raises(NotFound), store.session() as s:
        history.get(s, other, item_id)
    with pytest.raises(NotFound), store.session() as s:
        history.delete(s, other, item_id)


def test_content_is_encrypted_at_rest(store: Store, workspace_id: str, db_path: Path) -> None:
    marker = new_canary()
    with store.session() as s:
        history.save(s, RETAIN, item(workspace_id, f"text {marker}", marker.encode() * 50))
    store.checkpoint()
    assert marker.encode() not in files_bytes(db_path)
    assert marker.encode() not in files_bytes(store.keystore.path)


def sealed_columns(store: Store, item_id: str) -> list[bytes]:
    with store.session() as s:
        row = s.get(HistoryRow, item_id)
        assert row is not None
        return [c for c in (row.text, row.audio, row.details) if c is not None]


def test_delete_removes_the_ciphertext_and_destroys_the_key(
    store: Store, workspace_id: str, db_path: Path
) -> None:
    big_audio = new_canary().encode() * 2000  # large enough for overflow pages
    with store.session() as s:
        item_id = history.save(s, RETAIN, item(workspace_id, "to delete", big_audio))
    sealed = sealed_columns(store, item_id)
    if not store.is_sqlite:
        pytest.skip("reads the SQLite files; on PostgreSQL the key's destruction is the proof")
    store.checkpoint()
    assert all(c[-64:] in files_bytes(db_path) for c in sealed)  # the control
    with store.session() as s:
        history.delete(s, workspace_id, item_id)
    store.checkpoint()
    data = files_bytes(db_path)
    assert not any(c[-64:] in data for c in sealed)
    assert store.keystore.item_keys(workspace_id, [item_id]) == {}


def test_a_row_whose_key_is_gone_is_deleted(store: Store, workspace_id: str) -> None:
    with store.session() as s:
        item_id = history.save(s, RETAIN, item(workspace_id, "orphan"))
    store.keystore.destroy_items([item_id])
    with pytest.raises(NotFound), store.session() as s:
        history.get(s, workspace_id, item_id)
    with store.session() as s:
        assert history.list_page(s, workspace_id, HistoryFilter()).items == []
        assert history.purge_keyless(s) == 1
        assert s.get(HistoryRow, item_id) is None


def test_ciphertext_cannot_be_moved_to_another_item(store: Store, workspace_id: str) -> None:
    from sottovoce.store.encryption import DecryptionFailed

    with store.session() as s:
        a = history.save(s, RETAIN, item(workspace_id, "alpha"))
        b = history.save(s, RETAIN, item(workspace_id, "beta"))
    with store.session() as s:
        row_a, row_b = s.get(HistoryRow, a), s.get(HistoryRow, b)
        assert row_a is not None and row_b is not None
        row_b.text = row_a.text
    with pytest.raises(DecryptionFailed), store.session() as s:
        history.get(s, workspace_id, b)


def test_paging_filters_and_search(store: Store, workspace_id: str) -> None:
    with store.session() as s:
        ids = [history.save(s, RETAIN, item(workspace_id, f"number {i}")) for i in range(5)]
    with store.session() as s:
        first = history.list_page(s, workspace_id, HistoryFilter(page_size=2))
        assert [i.id for i in first.items] == ids[::-1][:2] and first.has_more
        second = history.list_page(
            s, workspace_id, HistoryFilter(page_size=2, start_after_id=first.items[-1].id)
        )
        assert [i.id for i in second.items] == ids[::-1][2:4]
        asc = history.list_page(s, workspace_id, HistoryFilter(page_size=10, descending=False))
        assert [i.id for i in asc.items] == ids and not asc.has_more
        found = history.list_page(s, workspace_id, HistoryFilter(search=Sensitive("NUMBER 3")))
        assert [i.id for i in found.items] == [ids[3]]
        none = history.list_page(s, workspace_id, HistoryFilter(voice_id="other"))
        assert none.items == []
