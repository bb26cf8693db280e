"""Canary markers: unique strings and audio signals, and every form they could be found in.

A marker is searched as plain bytes, URL-encoded (both spellings), UTF-16 (both byte orders),
base64 (at every byte alignment, standard and URL-safe alphabets), and for audio markers as raw
samples (16-bit PCM and 32-bit float, little-endian). Pure functions, no I/O.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import string
import struct
from urllib.parse import quote, quote_plus

AUDIO_MARKER_SAMPLE_RATE = 16_000
AUDIO_MARKER_SAMPLES = 8_000  # half a second
_WINDOW = 64  # samples searched for, from the middle of the marker signal


def new_marker() -> str:
    """A fresh canary: unique (20 random lowercase letters, 94 bits), and unlike anything a
    server would write of its own. Letters, not hex digits: a voice reads them as one made-up
    word (about 2 s of speech), where it spelled out hex letter by letter and number by number
    (about 7 s), and every probe and test that speaks a marker paid for that synthesis."""
    return "CANARY" + "".join(secrets.choice(string.ascii_lowercase) for _ in range(20))


def _base64_forms(data: bytes) -> list[bytes]:
    """Substrings that any base64 encoding of ``data`` contains, at any byte alignment."""
    forms = []
    for pad in range(3):
        encoded = base64.b64encode(b"\0" * pad + data)
        start = -(-4 * pad // 3)  # characters touched by the padding bytes
        end = (pad + len(data)) // 3 * 4  # characters of complete groups only
        core = encoded[start:end]
        forms += [core, core.replace(b"+", b"-").replace(b"/", b"_")]
    return forms


def text_marker_forms(marker: str) -> dict[str, bytes]:
    raw = marker.encode()
    forms = {
        "plain": raw,
        "url": quote(marker).encode(),
        "url-plus": quote_plus(marker).encode(),
        "utf-16-le": marker.encode("utf-16-le"),
        "utf-16-be": marker.encode("utf-16-be"),
    }
    for i, form in enumerate(_base64_forms(raw)):
        forms[f"base64-{i}"] = form
    return forms


def audio_marker_samples(marker: str) -> list[int]:
    """A deterministic noise signal (16-bit samples) unique to the marker."""
    samples: list[int] = []
    counter = 0
    while len(samples) < AUDIO_MARKER_SAMPLES:
        digest = hashlib.sha256(f"{marker}:{counter}".encode()).digest()
        samples += [v // 4 for v in struct.unpack("<16h", digest)]  # about -18 dBFS
        counter += 1
    return samples[:AUDIO_MARKER_SAMPLES]


def audio_marker_pcm(marker: str) -> bytes:
    samples = audio_marker_samples(marker)
    return struct.pack(f"<{len(samples)}h", *samples)


def audio_marker_forms(marker: str) -> dict[str, bytes]:
    middle = AUDIO_MARKER_SAMPLES // 2
    window = audio_marker_samples(marker)[middle : middle + _WINDOW]
    pcm16 = struct.pack(f"<{_WINDOW}h", *window)
    f32 = struct.pack(f"<{_WINDOW}f", *(v / 32768.0 for v in window))
    forms = {"pcm-s16le": pcm16, "pcm-f32le": f32}
    for i, form in enumerate(_base64_forms(pcm16)[::2]):
        forms[f"pcm-s16le-base64-{i}"] = form
    return forms
