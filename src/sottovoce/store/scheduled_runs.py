"""Periodic tasks that replicas sharing one database run once per interval, not once each.

Each replica asks, on its own timer, whether a run is due; :func:`claim` answers yes to exactly
one of them per interval (a compare-and-set on the task's ``last_run_ms``), on SQLite and
PostgreSQL alike. A replica that dies leaves the next claim to another one.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sottovoce.store.schema import ScheduledRunRow


def claim(session: Session, name: str, now_ms: int, interval_ms: int) -> bool:
    """Whether this caller runs ``name`` now: its last run is at least ``interval_ms`` old (or
    there was none). At most one caller per interval gets True."""
    if session.get(ScheduledRunRow, name) is None:
        try:
            with session.begin_nested():
                session.add(ScheduledRunRow(name=name, last_run_ms=now_ms))
            return True
        except IntegrityError:  # another replica made the first claim at the same moment
            return False
    claimed = session.execute(
        update(ScheduledRunRow)
        .where(ScheduledRunRow.name == name, ScheduledRunRow.last_run_ms <= now_ms - interval_ms)
        .values(last_run_ms=now_ms)
    )
    return bool(claimed.rowcount == 1)  # type: ignore[attr-defined]
