"""Signed audit reports: a real (small) audit signed with ``--sign``, checked by ``audit verify``
as an auditor would, and refused when a byte of it changed or another key is offered."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from sottovoce.audit import signing
from sottovoce.cli import main
from sottovoce.config import Settings
from tests.harness import RunningServer

PROBE = "tts.openai"
"""One probe (Piper, the quickest engine to load), whose control is kept in history: the audit
passes and stays a few seconds long."""


def cli(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def keygen(directory: Path, name: str) -> tuple[Path, Path, str]:
    private, public = directory / f"{name}.pem", directory / f"{name}.pub.pem"
    made = cli("audit", "keygen", private, public)
    assert made.exit_code == 0, made.output
    fingerprint = made.output.split()[-1]
    return private, public, fingerprint


@pytest.fixture(scope="module")
def keydir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("keys")


@pytest.fixture(scope="module")
def signer(keydir: Path) -> tuple[Path, Path, str]:
    return keygen(keydir, "signer")


@pytest.fixture(scope="module")
def signed(server: RunningServer, signer: tuple[Path, Path, str], keydir: Path) -> Path:
    """A real audit of the shared server, one probe, signed."""
    out = keydir / "report.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOTTOVOCE_")}
    env.update({k: v for k, v in server.env.items() if k.startswith("SOTTOVOCE_")})
    result = subprocess.run(
        [
            *(sys.executable, "-m", "sottovoce", "audit", "--url", server.url),
            *("--tmp-dir", str(server.tmp_dir), "--log-file", str(server.stderr_path)),
            *("--only", PROBE, "--sign", str(signer[0]), "--json", str(out)),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return out


def test_a_signed_report_verifies_and_says_what_was_audited(
    signed: Path, signer: tuple[Path, Path, str], server: RunningServer
) -> None:
    _, public, fingerprint = signer
    checked = cli("audit", "verify", signed, "--public-key", public)
    assert checked.exit_code == 0, checked.output
    assert checked.output.startswith(f"OK: signed by {fingerprint}; audit PASS")
    report = json.loads(signed.read_text())
    assert report["signature"]["algorithm"] == "Ed25519"
    assert report["signature"]["public_key_sha256"] == fingerprint
    assert report["ok"] is True
    assert report["probes"] == [PROBE]
    assert {r["probe"] for r in report["results"]} == {PROBE}
    assert str(server.data_dir / "sottovoce.db") in report["places"]
    assert report["places_searched"] == len(report["places"])
    assert report["settings_fingerprint"].startswith("sha256:")
    assert report["started_at"] <= report["finished_at"]
    # Reformatting is not changing: the signature covers the canonical JSON.
    compact = signed.with_name("compact.json")
    compact.write_text(json.dumps(report, separators=(",", ":")))
    assert cli("audit", "verify", compact, "--public-key", public).exit_code == 0


def test_one_changed_byte_fails(signed: Path, signer: tuple[Path, Path, str]) -> None:
    text = signed.read_text()
    # One byte of one value: the audited probe's name.
    at = text.index(f'"{PROBE}"') + len(PROBE)
    tampered = signed.with_name("tampered.json")
    tampered.write_text(text[:at] + "H" + text[at + 1 :])
    checked = cli("audit", "verify", tampered, "--public-key", signer[1])
    assert checked.exit_code == 1
    assert "INVALID: the report was changed after it was signed" in checked.output


def test_another_key_fails(signed: Path, keydir: Path) -> None:
    _, other, _ = keygen(keydir, "other")
    checked = cli("audit", "verify", signed, "--public-key", other)
    assert checked.exit_code == 1
    assert "INVALID: the report was signed with another key" in checked.output


def test_an_unsigned_or_broken_report_fails(
    signed: Path, signer: tuple[Path, Path, str], tmp_path: Path
) -> None:
    report = json.loads(signed.read_text())
    del report["signature"]
    unsigned, broken = tmp_path / "unsigned.json", tmp_path / "broken.json"
    unsigned.write_text(json.dumps(report))
    broken.write_text(signed.read_text()[:-10])
    for path, why in ((unsigned, "is not signed"), (broken, "is not a JSON report")):
        checked = cli("audit", "verify", path, "--public-key", signer[1])
        assert checked.exit_code == 1
        assert why in checked.output


def test_keygen_keeps_the_private_key_private_and_never_overwrites(
    signer: tuple[Path, Path, str],
) -> None:
    private, public, _ = signer
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    before = private.read_bytes()
    again = cli("audit", "keygen", private, public.with_name("new.pub.pem"))
    assert again.exit_code == 1
    assert "exists; not overwritten" in again.output
    assert private.read_bytes() == before


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_keys_made_by_openssl_work(tmp_path: Path) -> None:
    private, public = tmp_path / "k.pem", tmp_path / "k.pub.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", private], check=True)
    subprocess.run(["openssl", "pkey", "-in", private, "-pubout", "-out", public], check=True)
    report = signing.sign({"ok": True, "probes": [PROBE]}, signing.load_private_key(private))
    path = tmp_path / "r.json"
    path.write_text(json.dumps(report))
    assert cli("audit", "verify", path, "--public-key", public).exit_code == 0


def test_the_settings_fingerprint_masks_secrets(tmp_path: Path) -> None:
    base = {"data_dir": tmp_path}
    url = "postgresql://audit:{}@db.example/sv"

    def fingerprint(**changes: object) -> str:
        return signing.settings_fingerprint(Settings(**{**base, **changes}))  # type: ignore[arg-type]

    # Secrets do not change it (so it reveals nothing of them)...
    assert fingerprint(master_key="a" * 40) == fingerprint(master_key="b" * 40)
    assert fingerprint(database_url=url.format("one")) == fingerprint(
        database_url=url.format("two")
    )
    keys = {"master_key": "m" * 40}  # a key store URL needs the master key
    assert fingerprint(keystore_url=url.format("one") + "_keys", **keys) == fingerprint(
        keystore_url=url.format("two") + "_keys", **keys
    )
    # ... every other setting does.
    assert fingerprint() != fingerprint(log_level="DEBUG")
    assert fingerprint(database_url=url.format("x")) != fingerprint(
        database_url=url.format("x").replace("db.example", "other.example")
    )
