"""The retention sweeper: expired history and conversations, expired backups and signed URLs,
rows whose keys are gone.

It runs inside the server every ``retention.sweep_interval_s``: once per interval across all
the replicas that share a database (each asks on its own timer; one claims the run in the
database, :mod:`sottovoce.store.scheduled_runs`, and on PostgreSQL holds an advisory lock while
it sweeps). ``run_once`` and ``run_if_due`` take their time from an injectable clock, so tests
drive them without sleeping.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import anyio

from sottovoce.config import Settings
from sottovoce.privacy.logging import error_fields, log_event
from sottovoce.store import (
    backups,
    conversations,
    history,
    scheduled_runs,
    signed_urls,
    workspaces,
)
from sottovoce.store.backups import DAY_MS
from sottovoce.store.db import Store
from sottovoce.store.ids import now_ms

log = logging.getLogger("sottovoce.sweeper")
SWEEP = "retention-sweep"
Clock = Callable[[], int]
"""Milliseconds since the epoch."""


@dataclass(frozen=True)
class SweepReport:
    history_expired: int
    keyless_purged: int
    backups_pruned: int
    conversations_expired: int = 0


class RetentionSweeper:
    def __init__(self, store: Store, settings: Settings, clock: Clock = now_ms) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock

    def run_once(self) -> SweepReport:
        now = self.clock()
        expired = 0
        with self.store.session() as session:
            for ws in workspaces.list_all(session):
                if ws.history_retention_days is not None:
                    cutoff = now - ws.history_retention_days * DAY_MS
                    expired += history.delete_older_than(session, ws.id, cutoff)
            # Conversations past their agent's retention_days (and those whose history item
            # went first, so the keyless purge comes after this).
            ended = conversations.delete_expired(session, now)
            purged = history.purge_keyless(session)
            ended += conversations.delete_expired(session, now)
            signed_urls.delete_expired(session, now)
        pruned = backups.prune(self.settings.resolved_backup_dir, now)
        if expired or purged or ended:
            self.store.checkpoint()
        if not self.store.is_sqlite:
            # PostgreSQL keeps dead tuples (ciphertext whose key is gone) until a vacuum.
            self.store.vacuum()
        return SweepReport(expired, purged, len(pruned), ended)

    def run_if_due(self) -> SweepReport | None:
        """Sweep if no replica of this database has swept within the interval (None: not due,
        or another replica is sweeping right now)."""
        interval_ms = int(self.settings.retention.sweep_interval_s * 1000)
        with self.store.exclusive(SWEEP) as mine:
            if not mine:
                return None
            with self.store.session() as session:
                due = scheduled_runs.claim(session, SWEEP, self.clock(), interval_ms)
            return self.run_once() if due else None

    async def run_forever(self) -> None:
        while True:
            try:
                report = await anyio.to_thread.run_sync(self.run_if_due)
                if report is None:
                    await anyio.sleep(self.settings.retention.sweep_interval_s)
                    continue
                log_event(
                    log,
                    "retention.sweep",
                    count=report.history_expired
                    + report.keyless_purged
                    + report.conversations_expired,
                    input_units=report.backups_pruned,
                )
            except Exception as exc:  # a failed sweep must not stop the next one
                log_event(log, "retention.sweep_failed", logging.ERROR, **error_fields(exc))
            await anyio.sleep(self.settings.retention.sweep_interval_s)
