"""Where the audit looks, and in which forms: every place a server could persist content.

A marker is searched as plain bytes, URL-encoded (both spellings), UTF-16 (both byte orders),
base64 (at every byte alignment, standard and URL-safe alphabets), and for audio markers as raw
samples (16-bit PCM and 32-bit float, little-endian). Places: every file under the data
directory (database, WAL, journal, key store, backups), the server's TMPDIR, configured log
files, the PostgreSQL data directory when given, the captured log stream, and history content
decrypted with the server's own keys (at rest it is ciphertext, so that is where retained
content shows, and where a leak into history would hide).
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, quote_plus

from sottovoce.store import history, workspaces
from sottovoce.store.db import Store
from sottovoce.store.history import HistoryFilter

AUDIO_MARKER_SAMPLE_RATE = 16_000
AUDIO_MARKER_SAMPLES = 8_000  # half a second
_WINDOW = 64  # samples searched for, from the middle of the marker signal


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


@dataclass
class Places:
    """What to search, and how to open the server's history."""

    directories: list[Path] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    streams: dict[str, bytes | bytearray] = field(default_factory=dict)
    """Captured output, by name (e.g. the server's stderr)."""
    store: Store | None = None

    def _files(self) -> Iterator[Path]:
        seen: set[Path] = set()
        for directory in self.directories:
            if directory.is_dir():
                for path in sorted(directory.rglob("*")):
                    if path.is_file() and path not in seen:
                        seen.add(path)
                        yield path
        for path in self.files:
            if path.is_file() and path not in seen:
                seen.add(path)
                yield path

    def decrypted_history(self) -> Iterator[tuple[str, bytes]]:
        if self.store is None:
            return
        with self.store.session() as s:
            for ws in workspaces.list_all(s):
                for item in history.list_page(s, ws.id, HistoryFilter(page_size=10**6)).items:
                    blob = item.text.reveal().encode() if item.text is not None else b""
                    if item.details is not None:
                        blob += json.dumps(item.details.reveal()).encode()
                    if item.has_audio:
                        blob += history.get_audio(s, ws.id, item.id)[0].reveal()
                    yield f"history:{item.id} (decrypted)", blob

    def contents(self) -> Iterator[tuple[str, bytes | bytearray]]:
        for path in self._files():
            try:
                yield str(path), path.read_bytes()
            except OSError:  # a file that vanished or that we may not read is not a finding
                continue
        yield from self.streams.items()
        yield from self.decrypted_history()


@dataclass(frozen=True)
class Finding:
    marker: str
    place: str
    form: str


def search(
    places: Places, markers: Iterable[str], audio_markers: Iterable[str] = ()
) -> list[Finding]:
    """Every (marker, place, form) found. Reads each place once, whatever the marker count."""
    patterns: list[tuple[str, str, bytes]] = []
    for marker in markers:
        patterns += [(marker, name, form) for name, form in text_marker_forms(marker).items()]
    for marker in audio_markers:
        patterns += [(marker, name, form) for name, form in audio_marker_forms(marker).items()]
    found: list[Finding] = []
    for place, data in places.contents():
        for marker, name, form in patterns:
            if form in data:
                found.append(Finding(marker, place, name))
    return found
