"""The canary harness's TMPDIR watch sees what a listing cannot: an entry created and deleted at
once (how SQLite's spill files looked)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from sottovoce.config import Settings
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


def test_reading_the_settings_writes_nothing_in_tmpdir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``tempfile.gettempdir()`` would probe TMPDIR with a file of its own; the settings name
    the temporary directories without it (a fresh process: this one's answer is cached)."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    watch = CreationWatch(tmp)
    try:
        code = "from sottovoce.config import Settings; Settings(data_dir=__import__('sys').argv[1])"
        env = {**os.environ, "TMPDIR": str(tmp)}
        subprocess.run([sys.executable, "-c", code, str(tmp_path / "data")], env=env, check=True)
        assert watch.read() == []
    finally:
        watch.close()
    # And the temporary directory itself is still refused as a data directory.
    monkeypatch.setenv("TMPDIR", str(tmp))
    with pytest.raises(ValidationError, match="temporary directory"):
        Settings(data_dir=tmp)
