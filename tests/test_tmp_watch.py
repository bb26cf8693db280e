"""The canary harness's TMPDIR watch sees what a listing cannot: an entry created and deleted at
once (how SQLite's spill files looked)."""

from __future__ import annotations

import os
from pathlib import Path

from tests.tmp_watch import CreationWatch


def test_a_file_deleted_at_once_is_still_seen(tmp_path: Path) -> None:
    watch = CreationWatch(tmp_path)
    try:
        assert watch.read() == []
        spilled = tmp_path / "etilqs_0123"
        spilled.write_bytes(b"spill")
        spilled.unlink()
        (tmp_path / "sub").mkdir()
        os.rename(tmp_path / "sub", tmp_path / "moved")
        outside = tmp_path.parent / f"{tmp_path.name}-moved-in"
        outside.write_bytes(b"")
        os.rename(outside, tmp_path / "arrived")
        assert list(tmp_path.iterdir()) != []  # only "moved" and "arrived" are still there
        assert watch.read() == ["etilqs_0123", "sub", "moved", "arrived"]
        # What was read is kept.
        assert watch.read() == ["etilqs_0123", "sub", "moved", "arrived"]
    finally:
        watch.close()
