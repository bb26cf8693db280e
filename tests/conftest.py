"""Shared fixtures: real servers on 127.0.0.1 and unique canaries.

Servers, and why each is separate:

- ``server``: one per database backend for the whole session (``shared_*_server``), with the
  settings every test that only checks shapes can share. Tests are isolated by workspace
  (``workspace`` and ``zdr_workspace`` make a fresh one per test), and what they search for is
  a marker of their own, so they never count, list or search what another test left behind.
- ``limits_server``: small JSON, upload, audio-length and TTS socket limits (``test_errors``,
  ``test_stt_files``, ``test_tts_socket_limits``), which would refuse the ordinary requests of
  every other test.
- ``start_server(env=...)``: a server of a module's own, for settings that change the behaviour
  under test for everyone (the sweeper's interval, upstream providers, the audit's clean
  server, a planted leak). Stopped after the module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.harness import Creds, RunningServer, new_canary
from tests.postgres import PostgresCluster, find_bin_dir

ServerFactory = Callable[..., RunningServer]

CHAT_CONTEXT_LENGTH = 1024
"""The shared server's LLM context window: small, so the chat tests can overflow it quickly."""

SHARED_ENV = {
    "SOTTOVOCE_LLM__CONTEXT_LENGTH": str(CHAT_CONTEXT_LENGTH),
    # Voice matching with a budget of one candidate: a (poor) voice in seconds.
    "SOTTOVOCE_VOICES__MATCH_EVALUATIONS": "1",
}

LIMITS_ENV = {
    "SOTTOVOCE_LIMITS__MAX_JSON_BYTES": "1024",
    "SOTTOVOCE_STT__MAX_UPLOAD_BYTES": "100000",
    "SOTTOVOCE_STT__MAX_AUDIO_SECONDS": "1",
    "SOTTOVOCE_TTS__SOCKET_IDLE_SECONDS": "1",
    "SOTTOVOCE_TTS__MAX_SOCKET_CONTEXTS": "2",
    "SOTTOVOCE_TTS__MAX_SOCKET_MESSAGE_BYTES": "2048",
}


TEST_ENV = {
    # Live transcription capacity follows the cores (a 1-core machine admits one session): the
    # tests that do not test it must not depend on the machine (test_live_capacity sets 1).
    "SOTTOVOCE_LIMITS__MAX_LIVE_TRANSCRIPTIONS": "8",
    # Nor on how busy it is: on a loaded machine (two workers beside the other's servers) a
    # decode may wait past the default backlog, and a live socket opened then would be refused
    # (test_live_capacity sets its own).
    "SOTTOVOCE_LIMITS__LIVE_BACKLOG_S": "0",
}


FIRST = (
    *("tests/audit/test_audit.py", "tests/web/", "tests/api/elevenlabs/test_voices.py"),
    *("tests/api/test_stt_channels.py", "tests/api/elevenlabs/test_realtime_stt.py"),
    *("tests/engines/test_whisper.py", "tests/engines/test_whisper_live.py", "tests/test_cli.py"),
)
"""The longest modules (a whole audit takes a minute or more, the others 20-35 s each), longest
first: started first, so that on two workers (``make test``) the many short ones fill the end
instead of one worker finishing a long module alone (seen: ``test_cli`` last, 9 s with one core
idle). pytest-xdist follows this order only without its ``loadscope_reorder`` (see
``pytest_configure``)."""


def pytest_configure(config: pytest.Config) -> None:
    # pytest-xdist's ``--dist loadfile`` hands out whole modules, by default the ones with the
    # most tests first: that started the whole audit (5 tests, minutes) last, on one worker,
    # while the other had finished. Here (not in addopts, so that ``-p no:xdist`` still works)
    # it keeps the order of FIRST.
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False
    # A module's tests share its server, workspace and browser, and some read what the ones
    # before them left (the console's history lists the playground's syntheses): ``-n 2`` alone
    # means ``--dist load``, which spreads a module's tests over the workers and fails them.
    if getattr(config.option, "dist", None) == "load":
        config.option.dist = "loadfile"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::", 1)[0]
        return next((i for i, first in enumerate(FIRST) if path.startswith(first)), len(FIRST))

    items.sort(key=rank)  # stable: the order within each rank stays as collected


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


def launch(
    tmp_path_factory: pytest.TempPathFactory,
    backend: str,
    request: pytest.FixtureRequest,
    env: dict[str, str] | None = None,
    startup_s: float = 90,
) -> RunningServer:
    """A server on a fresh database of ``backend``, in a directory of its own."""
    root = tmp_path_factory.mktemp("server")
    env = {**TEST_ENV, **(env or {})}
    extra: list[Path] = []
    if backend == "postgresql":
        cluster: PostgresCluster = request.getfixturevalue("postgres")
        env = {"SOTTOVOCE_DATABASE_URL": cluster.create_database(), **env}
        extra.append(cluster.data_dir)
    return RunningServer(root, env=env, startup_s=startup_s, extra_places=extra)


@pytest.fixture(scope="module")
def start_server(
    tmp_path_factory: pytest.TempPathFactory, backend: str, request: pytest.FixtureRequest
) -> Iterator[ServerFactory]:
    """Start servers with other settings: ``start_server(env={...})``. Stopped after the module."""
    started: list[RunningServer] = []

    def start(env: dict[str, str] | None = None, startup_s: float = 90) -> RunningServer:
        started.append(launch(tmp_path_factory, backend, request, env, startup_s))
        return started[-1]

    try:
        yield start
    finally:
        for server in started:
            server.stop()


def shared(
    tmp_path_factory: pytest.TempPathFactory, backend: str, request: pytest.FixtureRequest
) -> Iterator[RunningServer]:
    server = launch(tmp_path_factory, backend, request, SHARED_ENV)
    try:
        yield server
        left = sorted(str(p.relative_to(server.tmp_dir)) for p in server.tmp_dir.rglob("*"))
    finally:
        server.stop()
    # Each test checks what its own requests left; here, once, everything the session sent.
    assert left == [], f"the shared {backend} server's TMPDIR is not empty: {left}"
    # ... and what it created and deleted at once, which no listing can see.
    created = server.tmp_created()
    assert created == [], f"the shared {backend} server created files in its TMPDIR: {created}"


@pytest.fixture(scope="session")
def shared_sqlite_server(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[RunningServer]:
    yield from shared(tmp_path_factory, "sqlite", request)


@pytest.fixture(scope="session")
def shared_postgresql_server(
    tmp_path_factory: pytest.TempPathFactory,
    postgres: PostgresCluster,  # stopped after this server, not before
    request: pytest.FixtureRequest,
) -> Iterator[RunningServer]:
    yield from shared(tmp_path_factory, "postgresql", request)


@pytest.fixture(scope="module")
def server(backend: str, request: pytest.FixtureRequest) -> RunningServer:
    """The shared real server of the module's backend, engines loaded lazily (on first use).

    Started when a module first asks for it and kept for the session; ``backend`` stays
    module-scoped, so pytest keeps its module order."""
    shared_server: RunningServer = request.getfixturevalue(f"shared_{backend}_server")
    return shared_server


@pytest.fixture(scope="session")
def limits_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server with small limits: JSON bodies of 1 KB, uploads of 100 kB, 1 s of audio; TTS
    sockets idle for 1 s at most, with 2 contexts and messages of 2 KB."""
    small = RunningServer(tmp_path_factory.mktemp("limits-server"), env=LIMITS_ENV)
    yield small
    small.stop()


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
