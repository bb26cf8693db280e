"""Admission control: how much work of each kind runs at once, on this replica and per workspace.

Work past a limit is refused at once (:class:`~sottovoce.errors.TooBusy`, 429 with
``Retry-After``, or close 1013 on a socket), never queued: a queue that grows is memory that
grows, and a live session that waits falls behind real time. Three kinds are counted
(:class:`Kind`): speech synthesis requests, file transcription requests, and sessions (every
socket, whatever it carries). A request takes a :class:`Ticket` when it is authenticated and
gives it back when its response is over (a stream's last byte, a socket's close).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum

from sottovoce.config import LimitSettings
from sottovoce.errors import TooBusy
from sottovoce.privacy.eligibility import Product


class Kind(StrEnum):
    SYNTHESIS = "synthesis"
    TRANSCRIPTION = "transcription"
    SESSION = "session"


_SYNTHESIS = frozenset({Product.TTS, Product.DIALOGUE, Product.SPEECH_TO_SPEECH})


def kind_of(product: Product, socket: bool) -> Kind | None:
    """What a request of ``product`` counts as (``None``: it is not limited here)."""
    if socket:
        return Kind.SESSION
    if product in _SYNTHESIS:
        return Kind.SYNTHESIS
    if product is Product.STT:
        return Kind.TRANSCRIPTION
    return None


@dataclass
class Ticket:
    """One admitted request's place; :meth:`release` gives it back (once)."""

    admission: Admission
    kind: Kind
    workspace_id: str
    released: bool = False

    def release(self) -> None:
        if not self.released:
            self.released = True
            self.admission._release(self)


@dataclass
class Admission:
    """The counts of running work (this process's; each replica has its own)."""

    replica: dict[Kind, int | None]
    workspace: dict[Kind, int | None]
    _running: Counter[Kind] = field(default_factory=Counter)
    _by_workspace: Counter[tuple[Kind, str]] = field(default_factory=Counter)

    @classmethod
    def from_settings(cls, limits: LimitSettings) -> Admission:
        return cls(
            replica={
                Kind.SYNTHESIS: limits.max_concurrent_synthesis,
                Kind.TRANSCRIPTION: limits.max_concurrent_transcription,
                Kind.SESSION: limits.max_concurrent_sessions,
            },
            workspace={
                Kind.SYNTHESIS: limits.workspace_max_concurrent_synthesis,
                Kind.TRANSCRIPTION: limits.workspace_max_concurrent_transcription,
                Kind.SESSION: limits.workspace_max_concurrent_sessions,
            },
        )

    def admit(self, kind: Kind, workspace_id: str) -> Ticket:
        """A place for one more request of ``kind``, or ``TooBusy``."""
        replica, own = self.replica.get(kind), self.workspace.get(kind)
        if replica is not None and self._running[kind] >= replica:
            raise TooBusy("This server is at its limit of concurrent requests; retry shortly.")
        if own is not None and self._by_workspace[kind, workspace_id] >= own:
            raise TooBusy("This workspace is at its limit of concurrent requests; retry shortly.")
        self._running[kind] += 1
        self._by_workspace[kind, workspace_id] += 1
        return Ticket(self, kind, workspace_id)

    def running(self, kind: Kind, workspace_id: str | None = None) -> int:
        if workspace_id is None:
            return self._running[kind]
        return self._by_workspace[kind, workspace_id]

    def _release(self, ticket: Ticket) -> None:
        self._running[ticket.kind] -= 1
        key = (ticket.kind, ticket.workspace_id)
        self._by_workspace[key] -= 1
        if self._by_workspace[key] <= 0:
            del self._by_workspace[key]
