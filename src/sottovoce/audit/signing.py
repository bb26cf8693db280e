"""Signed audit reports: an audit's JSON report, signed with Ed25519, re-checkable by anyone.

A report is signed over its *canonical* JSON: keys sorted, no insignificant whitespace, UTF-8
(:func:`canonical`), so reformatting the file does not matter and changing any value does. The
signature travels inside the report, as its ``signature`` member, and covers everything else:

    {"ok": true, "version": "...", "settings_fingerprint": "sha256:...", "probes": [...],
     "places": [...], "results": [...], "started_at": "...", "finished_at": "...", ...,
     "signature": {"algorithm": "Ed25519", "public_key_sha256": "...", "value": "<base64>"}}

Keys are ordinary PEM files: a PKCS#8 private key and its SubjectPublicKeyInfo public key, as
``sottovoce audit keygen`` writes them, or as ``openssl genpkey -algorithm ed25519`` and
``openssl pkey -pubout`` do. The settings' fingerprint hashes every setting with its secrets
masked (the master key, upstream API keys, a database URL's password): it shows that two
reports came from the same configuration without showing the configuration.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from sottovoce.config import Settings

ALGORITHM = "Ed25519"
SIGNATURE = "signature"


class SigningError(Exception):
    """A key or a report that cannot be used; the message says which and why (never a key)."""


def canonical(data: Any) -> bytes:
    """The one byte form of a JSON value that is signed and verified."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def settings_fingerprint(settings: Settings) -> str:
    """A hash of every setting, secrets masked."""
    data = settings.model_dump(mode="json")  # SecretStr values come out masked
    for name, url in (
        ("database_url", settings.resolved_database_url),
        ("keystore_url", settings.resolved_keystore_url),
    ):
        try:
            data[name] = make_url(url).render_as_string(hide_password=True)
        except ArgumentError:
            data[name] = "(unparsable)"
    return "sha256:" + hashlib.sha256(canonical(data)).hexdigest()


def _public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(key: Ed25519PublicKey) -> str:
    """The public key's SHA-256, hex: names the key in a signature without trusting it."""
    return hashlib.sha256(_public_bytes(key)).hexdigest()


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        raise SigningError(f"cannot read the private key {path}: {exc.strerror}") from None
    except (ValueError, TypeError):
        raise SigningError(f"{path} is not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningError(f"{path} is not an Ed25519 private key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except OSError as exc:
        raise SigningError(f"cannot read the public key {path}: {exc.strerror}") from None
    except (ValueError, TypeError):
        raise SigningError(f"{path} is not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SigningError(f"{path} is not an Ed25519 public key")
    return key


def sign(report: dict[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    """The report with its signature added (over everything but the signature)."""
    body = {k: v for k, v in report.items() if k != SIGNATURE}
    value = key.sign(canonical(body))
    signature = {
        "algorithm": ALGORITHM,
        "public_key_sha256": key_id(key.public_key()),
        "value": base64.b64encode(value).decode(),
    }
    return {**body, SIGNATURE: signature}


def verify(report: object, key: Ed25519PublicKey) -> None:
    """Raises ``SigningError`` unless ``report`` carries a valid signature by ``key``."""
    if not isinstance(report, dict):
        raise SigningError("the report is not a JSON object")
    signature = report.get(SIGNATURE)
    if not isinstance(signature, dict):
        raise SigningError("the report is not signed")
    if signature.get("algorithm") != ALGORITHM:
        raise SigningError(f"the report is not signed with {ALGORITHM}")
    try:
        value = base64.b64decode(str(signature.get("value")), validate=True)
    except (binascii.Error, ValueError):
        raise SigningError("the report's signature is not valid base64") from None
    body = {k: v for k, v in report.items() if k != SIGNATURE}
    try:
        key.verify(value, canonical(body))
    except InvalidSignature:
        if signature.get("public_key_sha256") != key_id(key):
            raise SigningError("the report was signed with another key") from None
        raise SigningError("the report was changed after it was signed") from None


def generate(private_path: Path, public_path: Path) -> str:
    """Write a new key pair (the private key readable by its owner only); returns its id.
    Refuses to overwrite either file."""
    for path in (private_path, public_path):
        if path.exists():
            raise SigningError(f"{path} exists; not overwritten")
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(private)
    public_path.write_bytes(public)
    return key_id(key.public_key())
