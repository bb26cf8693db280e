"""The command line, run as a user runs it: a subprocess printing JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOTTOVOCE_")}
    env["SOTTOVOCE_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "sottovoce", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_workspace_and_key_lifecycle(tmp_path: Path) -> None:
    created = cli(tmp_path, "workspace", "create", "clinic", "--zdr")
    assert created.returncode == 0, created.stderr
    ws = json.loads(created.stdout)
    assert ws["workspace_id"].startswith("ws_")
    assert ws["api_key"].startswith("sv_")

    listed = json.loads(cli(tmp_path, "workspace", "list").stdout)
    assert [(w["id"], w["zdr_enabled"], w["plan"]) for w in listed] == [
        (ws["workspace_id"], True, "enterprise")
    ]

    key = json.loads(cli(tmp_path, "key", "create", ws["workspace_id"], "--admin").stdout)
    assert key["workspace_id"] == ws["workspace_id"]
    assert key["api_key"] != ws["api_key"]
    # The key itself is never stored: only its hash.
    db = b"".join(p.read_bytes() for p in tmp_path.glob("sottovoce.db*"))
    assert key["api_key"].encode() not in db

    revoked = cli(tmp_path, "key", "revoke", key["key_id"])
    assert json.loads(revoked.stdout) == {"key_id": key["key_id"], "revoked": True}


def test_zdr_on_a_free_plan_is_refused_with_a_reason(tmp_path: Path) -> None:
    result = cli(tmp_path, "workspace", "create", "shop", "--zdr", "--plan", "free")
    assert result.returncode != 0
    assert "zdr_requires_enterprise" in result.stderr
    assert "Traceback" not in result.stderr


def test_restrict_withdraws_zdr(tmp_path: Path) -> None:
    ws = json.loads(cli(tmp_path, "workspace", "create", "x", "--zdr").stdout)
    out = json.loads(
        cli(
            tmp_path, "workspace", "restrict", ws["workspace_id"], "--reason", "fraud review"
        ).stdout
    )
    assert (out["restricted"], out["zdr_enabled"], out["restricted_reason"]) == (
        True,
        False,
        "fraud review",
    )


@pytest.mark.parametrize(
    "args", [["key", "create", "ws_nope"], ["workspace", "restrict", "ws_nope", "--reason", "r"]]
)
def test_unknown_ids_are_clean_errors(tmp_path: Path, args: list[str]) -> None:
    result = cli(tmp_path, *args)
    assert result.returncode == 1
    assert "not_found" in result.stderr
    assert "Traceback" not in result.stderr


def test_invalid_settings_are_named_not_dumped(tmp_path: Path) -> None:
    env = {**os.environ, "SOTTOVOCE_DATA_DIR": str(tmp_path), "SOTTOVOCE_MASTER_KEY": "short"}
    result = subprocess.run(
        [sys.executable, "-m", "sottovoce", "workspace", "list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "master_key" in result.stderr
    assert "short" not in result.stderr


def test_backup_create_list_restore_prune(tmp_path: Path) -> None:
    ws = json.loads(cli(tmp_path, "workspace", "create", "clinic").stdout)
    made = json.loads(cli(tmp_path, "backup", "create").stdout)
    assert made["engine"] == "sqlite"
    assert made["expires_at_ms"] - made["created_at_ms"] == 30 * 86_400_000
    assert [b["id"] for b in json.loads(cli(tmp_path, "backup", "list").stdout)] == [made["id"]]
    cli(tmp_path, "workspace", "create", "after the backup")
    restored = cli(tmp_path, "backup", "restore", made["id"], "--yes")
    assert restored.returncode == 0, restored.stderr
    listed = json.loads(cli(tmp_path, "workspace", "list").stdout)
    assert [w["id"] for w in listed] == [ws["workspace_id"]]
    assert json.loads(cli(tmp_path, "backup", "prune").stdout) == {"removed": []}
    missing = cli(tmp_path, "backup", "restore", "backup-nope", "--yes")
    assert missing.returncode == 1
    assert "not_found" in missing.stderr


def test_workspace_delete_needs_confirmation(tmp_path: Path) -> None:
    ws = json.loads(cli(tmp_path, "workspace", "create", "gone").stdout)
    refused = cli(tmp_path, "workspace", "delete", ws["workspace_id"])  # no stdin: aborted
    assert refused.returncode != 0
    assert len(json.loads(cli(tmp_path, "workspace", "list").stdout)) == 1
    done = json.loads(cli(tmp_path, "workspace", "delete", ws["workspace_id"], "--yes").stdout)
    assert done == {"workspace_id": ws["workspace_id"], "deleted": True}
    assert json.loads(cli(tmp_path, "workspace", "list").stdout) == []
