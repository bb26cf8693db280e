"""A workspace's own voices: designed ones and ones matched to uploaded samples.

Everything a client said about a voice and everything derived from its material is content:
its name, description and labels, the uploaded samples (and their file names) and the voice's
style pack. They are sealed with AES-GCM under a key of the voice's own, held in the key store
like a history item's (``keystore.py``). What stays in clear is what the server needs to run
and list the job: ids, category, engine, status, progress, counts and times.

Deleting a voice deletes its rows and destroys its key at once (crypto-shredding: every copy,
in the live database file and in every backup, is unreadable from then on). Deleting a
workspace deletes its voices with it (``workspace_deletion.py``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import delete as sa_delete
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from sottovoce.errors import NotFound
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.store.encryption import open_sealed, seal
from sottovoce.store.ids import new_id, now_ms
from sottovoce.store.keystore import KeyStore
from sottovoce.store.schema import VoiceRow, VoiceSampleRow


class VoiceStatus(StrEnum):
    """Where a voice is on its way to being usable (ElevenLabs' ``fine_tuning.state``)."""

    QUEUED = "queued"
    RUNNING = "fine_tuning"
    READY = "fine_tuned"
    FAILED = "failed"


@dataclass(frozen=True)
class VoiceMeta:
    """What the client said about a voice: content, sealed at rest."""

    name: str
    description: str | None = None
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class NewSample:
    file_name: str | None
    content_type: str | None
    audio: Sensitive[bytes]


@dataclass(frozen=True)
class NewVoice:
    workspace_id: str
    category: str
    """``cloned`` or ``generated``."""
    model_id: str
    meta: Sensitive[VoiceMeta]
    samples: tuple[NewSample, ...] = ()
    pack: Sensitive[bytes] | None = None
    speed: float = 1.0
    status: VoiceStatus = VoiceStatus.READY


@dataclass(frozen=True)
class StoredVoice:
    id: str
    workspace_id: str
    category: str
    model_id: str
    status: VoiceStatus
    progress: float
    error_code: str | None
    speed: float
    created_at_ms: int
    sample_count: int
    meta: Sensitive[VoiceMeta]
    sample_ids: tuple[str, ...] = ()


def _keystore(session: Session) -> KeyStore:
    keystore: KeyStore = session.info["keystore"]
    return keystore


def _aad(owner_id: str, what: str) -> bytes:
    return f"voice:{owner_id}:{what}".encode()


def _meta_bytes(meta: VoiceMeta) -> bytes:
    return json.dumps(
        {"name": meta.name, "description": meta.description, "labels": meta.labels}
    ).encode()


def _meta_of(data: bytes) -> VoiceMeta:
    raw: dict[str, Any] = json.loads(data)
    return VoiceMeta(raw["name"], raw.get("description"), dict(raw.get("labels") or {}))


def create(session: Session, voice: NewVoice) -> str:
    voice_id = new_id("voice")
    key = _keystore(session).new_item_key(voice.workspace_id, voice_id)
    pack = voice.pack.reveal() if voice.pack is not None else None
    session.add(
        VoiceRow(
            id=voice_id,
            workspace_id=voice.workspace_id,
            category=voice.category,
            model_id=voice.model_id,
            status=voice.status.value,
            progress=1.0 if voice.status is VoiceStatus.READY else 0.0,
            error_code=None,
            speed=voice.speed,
            created_at_ms=now_ms(),
            sample_count=len(voice.samples),
            meta=seal(key, _meta_bytes(voice.meta.reveal()), _aad(voice_id, "meta")),
            pack=seal(key, pack, _aad(voice_id, "pack")) if pack is not None else None,
        )
    )
    session.flush()
    for sample in voice.samples:
        sample_id = new_id("sample")
        name = (sample.file_name or "").encode()
        session.add(
            VoiceSampleRow(
                id=sample_id,
                voice_id=voice_id,
                workspace_id=voice.workspace_id,
                content_type=(sample.content_type or "application/octet-stream")[:64],
                size_bytes=sample.audio.size,
                file_name=seal(key, name, _aad(sample_id, "file_name")),
                audio=seal(key, sample.audio.reveal(), _aad(sample_id, "audio")),
            )
        )
    session.flush()
    return voice_id


def _row(session: Session, workspace_id: str, voice_id: str) -> tuple[VoiceRow, bytes]:
    row = session.get(VoiceRow, voice_id)
    key = _keystore(session).item_keys(workspace_id, [voice_id]).get(voice_id)
    # Another workspace's voice, or one whose key was destroyed, is a missing one.
    if row is None or row.workspace_id != workspace_id or key is None:
        raise NotFound("No such voice.")
    return row, key


def _stored(session: Session, row: VoiceRow, key: bytes) -> StoredVoice:
    sample_ids = tuple(
        session.scalars(
            select(VoiceSampleRow.id)
            .where(VoiceSampleRow.voice_id == row.id)
            .order_by(VoiceSampleRow.id)
        )
    )
    return StoredVoice(
        id=row.id,
        workspace_id=row.workspace_id,
        category=row.category,
        model_id=row.model_id,
        status=VoiceStatus(row.status),
        progress=row.progress,
        error_code=row.error_code,
        speed=row.speed,
        created_at_ms=row.created_at_ms,
        sample_count=row.sample_count,
        meta=Sensitive(_meta_of(open_sealed(key, row.meta, _aad(row.id, "meta")))),
        sample_ids=sample_ids,
    )


def get(session: Session, workspace_id: str, voice_id: str) -> StoredVoice:
    return _stored(session, *_row(session, workspace_id, voice_id))


def exists(session: Session, workspace_id: str, voice_id: str) -> bool:
    row = session.get(VoiceRow, voice_id)
    return row is not None and row.workspace_id == workspace_id


def list_all(session: Session, workspace_id: str) -> list[StoredVoice]:
    """The workspace's voices, oldest first (names decrypted in memory)."""
    rows = list(
        session.scalars(
            select(VoiceRow)
            .where(VoiceRow.workspace_id == workspace_id)
            .order_by(VoiceRow.created_at_ms, VoiceRow.id)
        )
    )
    keys = _keystore(session).item_keys(workspace_id, [r.id for r in rows])
    return [_stored(session, r, keys[r.id]) for r in rows if r.id in keys]


def count(session: Session, workspace_id: str) -> int:
    return int(
        session.scalar(
            select(func.count()).select_from(VoiceRow).where(VoiceRow.workspace_id == workspace_id)
        )
        or 0
    )


def pack(session: Session, workspace_id: str, voice_id: str) -> Sensitive[bytes] | None:
    """The voice's style pack, or ``None`` while it is not ready."""
    row, key = _row(session, workspace_id, voice_id)
    if row.pack is None or row.status != VoiceStatus.READY.value:
        return None
    return Sensitive(open_sealed(key, row.pack, _aad(row.id, "pack")))


def samples(session: Session, workspace_id: str, voice_id: str) -> list[Sensitive[bytes]]:
    """The voice's uploaded samples, decrypted, in upload order."""
    _, key = _row(session, workspace_id, voice_id)
    query = select(VoiceSampleRow).where(VoiceSampleRow.voice_id == voice_id)
    rows = session.scalars(query.order_by(VoiceSampleRow.id))
    return [Sensitive(open_sealed(key, r.audio, _aad(r.id, "audio"))) for r in rows]


def contents(session: Session, workspace_id: str, voice_id: str) -> list[Sensitive[bytes]]:
    """Everything sealed with the voice, decrypted (for the audit's search): its metadata and
    pack, and each sample's file name and audio."""
    row, key = _row(session, workspace_id, voice_id)
    out = [Sensitive(open_sealed(key, row.meta, _aad(row.id, "meta")))]
    if row.pack is not None:
        out.append(Sensitive(open_sealed(key, row.pack, _aad(row.id, "pack"))))
    for sample in session.scalars(select(VoiceSampleRow).where(VoiceSampleRow.voice_id == row.id)):
        out.append(Sensitive(open_sealed(key, sample.file_name, _aad(sample.id, "file_name"))))
        out.append(Sensitive(open_sealed(key, sample.audio, _aad(sample.id, "audio"))))
    return out


def set_progress(
    session: Session,
    voice_id: str,
    status: VoiceStatus,
    progress: float,
    error_code: str | None = None,
) -> bool:
    """Record a job's progress; ``False`` if the voice was deleted meanwhile."""
    result = session.execute(
        update(VoiceRow)
        .where(VoiceRow.id == voice_id)
        .values(status=status.value, progress=round(progress, 4), error_code=error_code)
    )
    return bool(getattr(result, "rowcount", 0))


def finish(
    session: Session,
    workspace_id: str,
    voice_id: str,
    pack: Sensitive[bytes],
    model_id: str | None = None,
) -> bool:
    """Store the matched voice's pack (its recipe) and mark it ready, with the model that speaks
    it when that is not the one it was created with (a match on Piper's or hibari's voice);
    ``False`` if it was deleted."""
    row = session.get(VoiceRow, voice_id)
    key = _keystore(session).item_keys(workspace_id, [voice_id]).get(voice_id)
    if row is None or key is None:
        return False
    row.pack = seal(key, pack.reveal(), _aad(voice_id, "pack"))
    if model_id is not None:
        row.model_id = model_id
    row.status = VoiceStatus.READY.value
    row.progress = 1.0
    row.error_code = None
    session.flush()
    return True


def interrupted(session: Session) -> list[tuple[str, str]]:
    """(workspace id, voice id) of every job that was queued or running when a server stopped."""
    rows = session.execute(
        select(VoiceRow.workspace_id, VoiceRow.id).where(
            VoiceRow.status.in_([VoiceStatus.QUEUED.value, VoiceStatus.RUNNING.value])
        )
    )
    return [(w, v) for w, v in rows]


def delete(session: Session, workspace_id: str, voice_id: str) -> None:
    """Delete the voice and its samples and destroy its key: gone from this moment on."""
    _row(session, workspace_id, voice_id)
    session.execute(sa_delete(VoiceSampleRow).where(VoiceSampleRow.voice_id == voice_id))
    session.execute(sa_delete(VoiceRow).where(VoiceRow.id == voice_id))
    session.flush()
    _keystore(session).destroy_items([voice_id])
