"""A key's standing, as another replica reads it: revoked or not, and its workspace now (the
open sessions' re-check, ``services/sessions.py``, reads nothing else)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sottovoce.config import Settings
from sottovoce.privacy.policy import Plan
from sottovoce.services.sessions import Lease
from sottovoce.store import keys, workspaces
from sottovoce.store.db import Store
from sottovoce.store.workspace_deletion import delete_workspace

pytestmark = pytest.mark.both_databases


@pytest.fixture
def replicas(tmp_path: Path, database_url: Callable[[Path], str]) -> Iterator[tuple[Store, Store]]:
    """Two stores on one database, as two replicas have."""
    settings = Settings(data_dir=tmp_path, database_url=database_url(tmp_path))
    one, two = Store.from_settings(settings), Store.from_settings(settings)
    one.migrate()
    yield one, two
    one.close()
    two.close()


def test_what_one_replica_changes_the_other_reads(replicas: tuple[Store, Store]) -> None:
    one, two = replicas
    with one.session() as s:
        ws = workspaces.create(s, "a", Plan.ENTERPRISE, zdr_enabled=False)
        kept, revoked = (keys.create(s, ws.id, is_admin=False).key for _ in range(2))
        doomed_ws = workspaces.create(s, "b", Plan.ENTERPRISE, zdr_enabled=False)
        doomed = keys.create(s, doomed_ws.id, is_admin=False).key
    # Sessions open on replica two, under the terms as they were.
    leases = {k.id: Lease(k.id, w) for k, w in ((kept, ws), (revoked, ws), (doomed, doomed_ws))}
    with one.session() as s:
        keys.revoke(s, revoked.id)
        workspaces.update(s, ws.id, {"zdr_enabled": True}, actor="test")
        delete_workspace(s, doomed_ws.id, keep_billing_totals=False)
    with two.session() as s:
        standing = keys.standing(s, list(leases))
    assert set(standing) == {kept.id, revoked.id}  # the deleted workspace's key is gone
    assert standing[kept.id][0] is False and standing[revoked.id][0] is True
    assert standing[kept.id][1].zdr_enabled is True
    verdicts = {key_id: lease.judge(standing.get(key_id)) for key_id, lease in leases.items()}
    assert {k: v.message if v else None for k, v in verdicts.items()} == {
        kept.id: "The workspace's retention settings changed.",
        revoked.id: "The API key was revoked.",
        doomed.id: "The API key or its workspace no longer exists.",
    }
    with two.session() as s:
        assert keys.standing(s, []) == {}
