"""Envelope encryption with AES-256-GCM: master key -> workspace key -> item key -> content.

Every sealed value carries a version byte and a fresh 96-bit nonce, and is bound to where it
belongs by its associated data (the item id and the field), so a ciphertext cannot be moved to
another row or field and still open.
"""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from sottovoce.errors import SottovoceError

VERSION = b"\x01"
KEY_BYTES = 32
NONCE_BYTES = 12


class DecryptionFailed(SottovoceError):
    code = "decryption_failed"
    default_message = "Stored content could not be decrypted."


class UnsafeKeyFile(SottovoceError):
    code = "unsafe_key_file"
    default_message = "The master key file is readable by other users; make it mode 0600."


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=KEY_BYTES * 8)


def seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return VERSION + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def open_sealed(key: bytes, sealed: bytes, aad: bytes) -> bytes:
    if sealed[:1] != VERSION:
        raise DecryptionFailed()
    nonce, body = sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :]
    try:
        return AESGCM(key).decrypt(nonce, body, aad)
    except InvalidTag:
        raise DecryptionFailed() from None


def derive_master_key(secret: str) -> bytes:
    """A 256-bit key from the configured master secret (already required to be 32+ chars)."""
    return HKDF(
        algorithm=hashes.SHA256(), length=KEY_BYTES, salt=b"sottovoce/master/v1", info=b"master"
    ).derive(secret.encode("utf-8"))


def load_or_create_key_file(path: Path) -> bytes:
    """The master key from an owner-only file, created (mode 0600) on first use."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise UnsafeKeyFile() from None
        return base64.b64decode(path.read_bytes().strip())
    with os.fdopen(fd, "wb") as out:
        out.write(base64.b64encode(new_key()) + b"\n")
        out.flush()
        os.fsync(out.fileno())
    return base64.b64decode(path.read_bytes().strip())
