"""Where a request carries its API key: each vendor surface names the places its SDK uses.

A :class:`KeySource` is one such place: a header of its own (``xi-api-key``), a scheme of the
``Authorization`` header (``Bearer``, ``Token``, ``Basic``, or none at all), a query parameter
(for WebSockets, whose browser clients cannot set headers), or a field of a socket's first
message. The app accepts the union of the mounted surfaces' sources on every route, so a
client may reach any endpoint with its own SDK's header; the source that matched is kept, so a
route shared by several vendors (``GET /v1/models``) can answer in the caller's shape.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from sottovoce.store.keys import KEY_PREFIX


class Place(StrEnum):
    HEADER = "header"
    """A header of its own; ``name`` is the header, lower case."""
    AUTHORIZATION = "authorization"
    """The ``Authorization`` header; ``name`` is its scheme, lower case ("" for a bare key)."""
    QUERY = "query"
    """A query parameter (sockets)."""
    MESSAGE = "message"
    """A field of a socket's first JSON message."""


@dataclass(frozen=True)
class KeySource:
    place: Place
    name: str
    surface: str = ""
    """The surface that declared it (first declarer wins when several share a source)."""
    decode: Callable[[str], str] | None = None
    """Turns what was sent into the key (``Basic`` credentials)."""

    def same_place(self, other: KeySource) -> bool:
        return (self.place, self.name) == (other.place, other.name)


def header(name: str) -> KeySource:
    return KeySource(Place.HEADER, name.lower())


def authorization(scheme: str, decode: Callable[[str], str] | None = None) -> KeySource:
    return KeySource(Place.AUTHORIZATION, scheme.lower(), decode=decode)


def query(name: str) -> KeySource:
    return KeySource(Place.QUERY, name)


def message_field(name: str) -> KeySource:
    return KeySource(Place.MESSAGE, name)


def basic_credential(value: str) -> str:
    """A key from ``Basic`` credentials: sent as given (Inworld's SDK) or ``base64(user:key)``."""
    if value.startswith(KEY_PREFIX):
        return value
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return value
    user, _, password = decoded.partition(":")
    return password or user


@dataclass(frozen=True)
class Found:
    secret: str
    source: KeySource


class KeyReader:
    """The union of the surfaces' key sources, read in a fixed order: own headers, then the
    ``Authorization`` header, then query parameters (first-message fields are read by sockets)."""

    def __init__(self, sources: Iterable[KeySource]) -> None:
        unique: list[KeySource] = []
        for source in sources:
            if not any(source.same_place(kept) for kept in unique):
                unique.append(source)
        self.sources = tuple(unique)

    def _of(self, place: Place) -> list[KeySource]:
        return [s for s in self.sources if s.place is place]

    def read(self, headers: Mapping[str, str], query: Mapping[str, str]) -> Found | None:
        """The key a request carries and where it was found."""
        for source in self._of(Place.HEADER):
            if value := headers.get(source.name):
                return Found(value.strip(), source)
        if auth := headers.get("authorization"):
            found = self._authorization(auth.strip())
            if found is not None:
                return found
        for source in self._of(Place.QUERY):
            if value := query.get(source.name):
                return Found(value.strip(), source)
        return None

    def _authorization(self, value: str) -> Found | None:
        scheme, _, credential = value.partition(" ")
        credential = credential.strip()
        for source in self._of(Place.AUTHORIZATION):
            if not credential and source.name == "":
                return Found(scheme, source)  # a bare key, no scheme
            if credential and scheme.lower() == source.name:
                secret = source.decode(credential) if source.decode else credential
                return Found(secret, source)
        return None

    def read_message(self, message: Mapping[str, object]) -> Found | None:
        """The key in a socket's first message, if it carries one."""
        for source in self._of(Place.MESSAGE):
            value = message.get(source.name)
            if isinstance(value, str) and value.strip():
                return Found(value.strip(), source)
        return None
