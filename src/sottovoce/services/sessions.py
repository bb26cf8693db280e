"""Open sessions and what they were opened with: a revoked key reaches its sockets in a second.

A socket session (live transcription, a TTS socket, a conversation) is authenticated once, when
it opens, but what it was authenticated with can change while it is open: its key revoked, its
workspace deleted or restricted, or the workspace's retention settings switched. Every open
session holds a :class:`Lease` on its key and on the workspace's terms as they were when it
opened, registered with :class:`OpenSessions` for as long as the socket lives.

:meth:`OpenSessions.run_forever` re-reads the keys and workspaces of all open sessions from the
store every ``server.session_recheck_s``, so a change made by another replica or by the command
line on the same database is seen, and at once when this process made the change itself
(:meth:`OpenSessions.poke`). A lease whose standing changed is revoked with a
:class:`~sottovoce.errors.SessionRevoked` naming what changed. Revoking withdraws the session's
retention at once (its request context stops gathering content and keeps nothing in history,
whatever was decided when it opened) and tells the lease's listeners: the socket layer closes the
socket with the vendor's error and close code.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Iterator
from contextlib import contextmanager

import anyio

from sottovoce.errors import SessionRevoked
from sottovoce.privacy.logging import error_fields, log_event
from sottovoce.store.workspaces import Workspace

log = logging.getLogger("sottovoce.sessions")

Standing = dict[str, tuple[bool, Workspace]]
"""Key id -> (revoked, its workspace now), for the keys that still exist."""
ReadStanding = Callable[[Collection[str]], Awaitable[Standing]]
Listener = Callable[[SessionRevoked], None]


def _terms(workspace: Workspace) -> tuple[object, ...]:
    """What a session's retention was decided under: a change to any of it ends the session."""
    return (workspace.retention, workspace.keep_input_audio)


class Lease:
    """One open session's hold on its key and its workspace's terms."""

    def __init__(self, key_id: str, workspace: Workspace) -> None:
        self.key_id = key_id
        self.workspace_id = workspace.id
        self._terms = _terms(workspace)
        self.error: SessionRevoked | None = None
        """Why the session was revoked; ``None`` while it stands."""
        self._listeners: list[Listener] = []

    @property
    def revoked(self) -> bool:
        return self.error is not None

    def on_revoke(self, listener: Listener) -> None:
        """Call ``listener`` when the lease is revoked (at once if it already is)."""
        if self.error is not None:
            listener(self.error)
        else:
            self._listeners.append(listener)

    def revoke(self, error: SessionRevoked) -> None:
        """Revoke the lease, once; listeners are told in the order they came."""
        if self.error is not None:
            return
        self.error = error
        listeners, self._listeners = self._listeners, []
        for listener in listeners:
            listener(error)

    def judge(self, found: tuple[bool, Workspace] | None) -> SessionRevoked | None:
        """Why this lease no longer stands, given its key's standing now (``None``: it stands)."""
        if found is None:
            return SessionRevoked("The API key or its workspace no longer exists.")
        revoked, workspace = found
        if revoked:
            return SessionRevoked("The API key was revoked.")
        if _terms(workspace) == self._terms:
            return None
        if workspace.restricted:
            return SessionRevoked("The workspace was restricted.")
        return SessionRevoked("The workspace's retention settings changed.")


class OpenSessions:
    """The leases of this process's open sessions, re-checked against the store."""

    def __init__(self) -> None:
        self._leases: set[Lease] = set()
        self._wake: anyio.Event | None = None

    def __len__(self) -> int:
        return len(self._leases)

    @contextmanager
    def holding(self, lease: Lease) -> Iterator[Lease]:
        """Keep ``lease`` checked while the block runs (the life of its socket)."""
        self._leases.add(lease)
        try:
            yield lease
        finally:
            self._leases.discard(lease)

    def poke(self) -> None:
        """Something changed here (a key, a workspace): check now, not at the next interval."""
        if self._wake is not None:
            self._wake.set()

    async def check(self, read: ReadStanding) -> int:
        """Re-read every open lease's key and workspace once; revoke those that no longer stand.
        Returns how many were revoked."""
        leases = [lease for lease in self._leases if not lease.revoked]
        if not leases:
            return 0
        standing = await read({lease.key_id for lease in leases})
        count = 0
        for lease in leases:
            error = lease.judge(standing.get(lease.key_id))
            if error is not None:
                count += 1
                log_event(log, "session.revoked", workspace_id=lease.workspace_id)
                lease.revoke(error)
        return count

    async def run_forever(self, read: ReadStanding, interval_s: float) -> None:
        """Check every ``interval_s`` and on every :meth:`poke`, until cancelled."""
        while True:
            self._wake = anyio.Event()
            with anyio.move_on_after(interval_s):
                await self._wake.wait()
            try:
                await self.check(read)
            except Exception as exc:  # a database hiccup: the next round tries again
                log_event(log, "session.check_failed", logging.WARNING, **error_fields(exc))
