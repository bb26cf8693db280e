"""Shared fixtures: real servers on 127.0.0.1 and unique canaries."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.harness import Creds, RunningServer, new_canary
from tests.postgres import PostgresCluster, find_bin_dir

ServerFactory = Callable[..., RunningServer]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``backend``: SQLite always; PostgreSQL too for modules marked ``both_databases``."""
    if "backend" in metafunc.fixturenames:
        both = metafunc.definition.get_closest_marker("both_databases") is not None
        backends = ["sqlite", "postgresql"] if both else ["sqlite"]
        metafunc.parametrize("backend", backends, scope="module")


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """A real PostgreSQL server for the session (``.ci/run`` installs Debian's postgresql)."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        pytest.skip("PostgreSQL binaries are not installed (apt-get install postgresql)")
    cluster = PostgresCluster(bin_dir)
    yield cluster
    cluster.stop()


@pytest.fixture(scope="module")
def database_url(backend: str, request: pytest.FixtureRequest) -> Callable[[Path], str]:
    """Makes a fresh database of the module's backend: SQLite in the given dir, or PostgreSQL."""

    def make(directory: Path) -> str:
        if backend == "postgresql":
            cluster: PostgresCluster = request.getfixturevalue("postgres")
            return cluster.create_database()
        return f"sqlite:///{directory / 'sottovoce.db'}"

    return make


@pytest.fixture(scope="module")
def start_server(
    tmp_path_factory: pytest.TempPathFactory, backend: str, request: pytest.FixtureRequest
) -> Iterator[ServerFactory]:
    """Start servers with other settings: ``start_server(env={...})``. Stopped after the module."""
    started: list[RunningServer] = []

    def start(env: dict[str, str] | None = None, startup_s: float = 90) -> RunningServer:
        root = tmp_path_factory.mktemp("server")
        extra: list[Path] = []
        if backend == "postgresql":
            cluster: PostgresCluster = request.getfixturevalue("postgres")
            env = {"SOTTOVOCE_DATABASE_URL": cluster.create_database(), **(env or {})}
            extra.append(cluster.data_dir)
        server = RunningServer(root, env=env, startup_s=startup_s, extra_places=extra)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="module")
def server(start_server: ServerFactory) -> RunningServer:
    """One real server per test module, engines loaded lazily."""
    return start_server()


@pytest.fixture
def canary() -> str:
    return new_canary()


@pytest.fixture
def workspace(server: RunningServer) -> Creds:
    """A fresh non-ZDR enterprise workspace with an admin key."""
    return server.create_workspace("retained")


@pytest.fixture
def zdr_workspace(server: RunningServer) -> Creds:
    """A fresh ZDR workspace with an admin key."""
    return server.create_workspace("zdr", zdr=True)
