"""Where the audit looks: every place a server could persist content.

Markers are searched in every form :mod:`sottovoce.audit.markers` knows. Places: every file
under the data directory (database, WAL, journal, key store, backups), the server's TMPDIR
and HOME (or, for a server the audit did not start, the files of the home directory's caches
written since the audit began), configured log files, the PostgreSQL data directory when given,
the captured log stream, and history content and workspace voices (names, descriptions,
samples) decrypted with the server's own keys (at rest they are ciphertext, so that is where
retained content shows, and where a leak into history would hide).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sottovoce.audit.markers import audio_marker_forms, text_marker_forms
from sottovoce.store import history, voices, workspaces
from sottovoce.store.db import Store
from sottovoce.store.history import HistoryFilter


@dataclass
class Places:
    """What to search, and how to open the server's history."""

    directories: list[Path] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    streams: dict[str, bytes | bytearray] = field(default_factory=dict)
    """Captured output, by name (e.g. the server's stderr)."""
    store: Store | None = None
    recent: list[Path] = field(default_factory=list)
    """Directories too large to read whole (a home directory's caches): only the files
    modified since ``since`` are read."""
    since: float = 0.0

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
        for directory in self.recent:
            for path in _changed_since(directory, self.since):
                if path not in seen:
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

    def decrypted_voices(self) -> Iterator[tuple[str, bytes]]:
        """Workspace voices: their sealed metadata, packs and samples, decrypted."""
        if self.store is None:
            return
        with self.store.session() as s:
            for ws in workspaces.list_all(s):
                for voice in voices.list_all(s, ws.id):
                    parts = voices.contents(s, ws.id, voice.id)
                    yield f"voice:{voice.id} (decrypted)", b"".join(p.reveal() for p in parts)

    def contents(self) -> Iterator[tuple[str, bytes | bytearray]]:
        for path in self._files():
            try:
                yield str(path), path.read_bytes()
            except OSError:  # a file that vanished or that we may not read is not a finding
                continue
        yield from self.streams.items()
        yield from self.decrypted_history()
        yield from self.decrypted_voices()


def _changed_since(directory: Path, since: float) -> Iterator[Path]:
    if not directory.is_dir():
        return
    for path in sorted(directory.rglob("*")):
        try:
            if path.is_file() and not path.is_symlink() and path.stat().st_mtime >= since:
                yield path
        except OSError:  # vanished while we looked
            continue


@dataclass(frozen=True)
class Finding:
    marker: str
    place: str
    form: str


class _Patterns:
    """Many byte patterns, found in one pass per distinct opening rather than one per pattern.

    Markers share their opening (``CANARY`` in each encoding), so the hundreds of forms of an
    audit's markers open with a handful of distinct prefixes: each prefix is looked for with
    ``bytes.find``, and only where it occurs are the whole patterns compared. Finds exactly what
    ``pattern in data`` finds, for each pattern."""

    PREFIX = 6

    def __init__(self, patterns: Iterable[tuple[str, str, bytes]]) -> None:
        self._short: list[tuple[str, str, bytes]] = []
        self._by_prefix: dict[bytes, dict[int, dict[bytes, list[tuple[str, str]]]]] = {}
        for marker, name, form in patterns:
            if len(form) < self.PREFIX:
                self._short.append((marker, name, form))
                continue
            by_length = self._by_prefix.setdefault(form[: self.PREFIX], {})
            by_length.setdefault(len(form), {}).setdefault(form, []).append((marker, name))

    def found_in(self, data: bytes | bytearray) -> set[tuple[str, str]]:
        found = {(marker, name) for marker, name, form in self._short if form in data}
        for prefix, by_length in self._by_prefix.items():
            at = data.find(prefix)
            while at != -1:
                for length, forms in by_length.items():
                    found.update(forms.get(bytes(data[at : at + length]), ()))
                at = data.find(prefix, at + 1)
        return found


def search(
    places: Places, markers: Iterable[str], audio_markers: Iterable[str] = ()
) -> list[Finding]:
    """Every (marker, place, form) found. Reads each place once, whatever the marker count."""
    return search_with_places(places, markers, audio_markers)[0]


def search_with_places(
    places: Places, markers: Iterable[str], audio_markers: Iterable[str] = ()
) -> tuple[list[Finding], list[str]]:
    """What :func:`search` finds, and the places it read (in order)."""
    patterns: list[tuple[str, str, bytes]] = []
    for marker in markers:
        patterns += [(marker, name, form) for name, form in text_marker_forms(marker).items()]
    for marker in audio_markers:
        patterns += [(marker, name, form) for name, form in audio_marker_forms(marker).items()]
    wanted = _Patterns(patterns)
    found: list[Finding] = []
    read: list[str] = []
    for place, data in places.contents():
        read.append(place)
        found += [Finding(marker, place, name) for marker, name in sorted(wanted.found_in(data))]
    return found, read
