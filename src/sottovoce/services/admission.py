"""Admission control: how much work of each kind runs at once, on this replica and per workspace.

Work past a limit is refused at once (:class:`~sottovoce.errors.TooBusy`, 429 with
``Retry-After``, or close 1013 on a socket), never queued: a queue that grows is memory that
grows, and a live session that waits falls behind real time. Four kinds are counted
(:class:`Kind`): speech synthesis requests, file transcription requests, sessions (every
socket, whatever it carries), and live transcriptions on this replica's own cores. A request
takes a :class:`Ticket` when it is authenticated and gives it back when its response is over (a
stream's last byte, a socket's close).

A socket counts as a live transcription too once its product knows that it will transcribe
here, on a local engine (:meth:`Ticket.widen`): realtime STT on a local model, a voice agent's
conversation. Its limit is derived from the cores (``limits.live_transcriptions``), and a new
one is also refused while the local Whisper work is behind (for longer than
``limits.live_backlog_s`` a decode has waited for a worker, or a live session for its commit
while its audio queued): the sessions already admitted then keep the workers, rather than
every session drifting further behind real time.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum

from sottovoce.config_capacity import LimitSettings
from sottovoce.engines.base import Backlogged, Transcriber
from sottovoce.errors import TooBusy
from sottovoce.privacy.eligibility import Product


class Kind(StrEnum):
    SYNTHESIS = "synthesis"
    TRANSCRIPTION = "transcription"
    SESSION = "session"
    LIVE_TRANSCRIPTION = "live_transcription"


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
    also: list[Kind] = field(default_factory=list)
    """Kinds the request counts as besides its own (:meth:`widen`)."""

    def widen(self, kind: Kind, backlog_s: float = 0.0) -> None:
        """Count the request as ``kind`` too, until it is released (``TooBusy`` past that
        kind's limit; for a live transcription, also while ``backlog_s`` is over its limit)."""
        if kind is self.kind or kind in self.also or self.released:
            return
        self.admission._take(kind, self.workspace_id, backlog_s)
        self.also.append(kind)

    def release(self) -> None:
        if not self.released:
            self.released = True
            for kind in (self.kind, *self.also):
                self.admission._release(kind, self.workspace_id)


@dataclass
class Admission:
    """The counts of running work (this process's; each replica has its own)."""

    replica: dict[Kind, int | None]
    workspace: dict[Kind, int | None]
    max_backlog_s: float = 0.0
    """A live transcription is refused while the local Whisper work is this far behind (0:
    never)."""
    _running: Counter[Kind] = field(default_factory=Counter)
    _by_workspace: Counter[tuple[Kind, str]] = field(default_factory=Counter)

    @classmethod
    def from_settings(cls, limits: LimitSettings, cores: int) -> Admission:
        """The limits of ``limits`` on a replica with ``cores`` usable cores."""
        return cls(
            replica={
                Kind.SYNTHESIS: limits.max_concurrent_synthesis,
                Kind.TRANSCRIPTION: limits.max_concurrent_transcription,
                Kind.SESSION: limits.max_concurrent_sessions,
                Kind.LIVE_TRANSCRIPTION: limits.live_transcriptions(cores),
            },
            workspace={
                Kind.SYNTHESIS: limits.workspace_max_concurrent_synthesis,
                Kind.TRANSCRIPTION: limits.workspace_max_concurrent_transcription,
                Kind.SESSION: limits.workspace_max_concurrent_sessions,
            },
            max_backlog_s=limits.live_backlog_s,
        )

    def admit(self, kind: Kind, workspace_id: str, backlog_s: float = 0.0) -> Ticket:
        """A place for one more request of ``kind``, or ``TooBusy``."""
        self._take(kind, workspace_id, backlog_s)
        return Ticket(self, kind, workspace_id)

    def _take(self, kind: Kind, workspace_id: str, backlog_s: float) -> None:
        replica, own = self.replica.get(kind), self.workspace.get(kind)
        if replica is not None and self._running[kind] >= replica:
            raise TooBusy("This server is at its limit of concurrent requests; retry shortly.")
        if own is not None and self._by_workspace[kind, workspace_id] >= own:
            raise TooBusy("This workspace is at its limit of concurrent requests; retry shortly.")
        behind = self.max_backlog_s > 0 and backlog_s > self.max_backlog_s
        if kind is Kind.LIVE_TRANSCRIPTION and behind:
            raise TooBusy("This server's live transcription is behind; retry shortly.")
        self._running[kind] += 1
        self._by_workspace[kind, workspace_id] += 1

    def running(self, kind: Kind, workspace_id: str | None = None) -> int:
        if workspace_id is None:
            return self._running[kind]
        return self._by_workspace[kind, workspace_id]

    def _release(self, kind: Kind, workspace_id: str) -> None:
        self._running[kind] -= 1
        key = (kind, workspace_id)
        self._by_workspace[key] -= 1
        if self._by_workspace[key] <= 0:
            del self._by_workspace[key]


def admit_live(ticket: Ticket | None, engine: Transcriber) -> None:
    """Count the socket holding ``ticket`` as a live transcription when ``engine`` runs on this
    replica's own cores (an upstream provider's stream costs them nothing): ``TooBusy`` past
    the limit, or while the engine's work is behind. No ticket: not under admission
    control (a context made outside a request)."""
    if ticket is None or not engine.info.provider.local:
        return
    backlog = engine.backlog_s() if isinstance(engine, Backlogged) else 0.0
    ticket.widen(Kind.LIVE_TRANSCRIPTION, backlog)
