"""PostgreSQL advisory locks, named: how replicas on one database take turns.

A name maps to a stable 64-bit key (a hash), the same in every process.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import Connection, text


def advisory_key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def wait_for_turn(connection: Connection, name: str) -> None:
    """Hold ``name`` until the connection's transaction ends, waiting while another process
    holds it (PostgreSQL only). Replicas started together create and migrate a schema one at a
    time: done at once, two ``CREATE TABLE`` of the same table fail on the catalog's unique
    index instead of one waiting for the other."""
    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": advisory_key(name)})
