"""Shared fixtures: real servers on 127.0.0.1 and unique canaries."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.harness import Creds, RunningServer, new_canary

ServerFactory = Callable[..., RunningServer]


@pytest.fixture(scope="module")
def start_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerFactory]:
    """Start servers with other settings: ``start_server(env={...})``. Stopped after the module."""
    started: list[RunningServer] = []

    def start(env: dict[str, str] | None = None, startup_s: float = 90) -> RunningServer:
        root = tmp_path_factory.mktemp("server")
        server = RunningServer(root, env=env, startup_s=startup_s)
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
