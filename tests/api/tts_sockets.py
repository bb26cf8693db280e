"""What the TTS socket tests share: every failure path driven by the audit's own socket scripts,
the usage records a socket leaves, and hearing its audio back with the local STT."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from sottovoce.audit.probe import Case, ProbeClient
from sottovoce.audit.sockets import SocketDialect, socket_cases
from tests.harness import Creds, RunningServer

Records = list[dict]  # type: ignore[type-arg]


def socket_paths(server: RunningServer, creds: Creds, dialect: SocketDialect) -> list[Case]:
    """Send a canary down every path of a socket (the audit's script): one connection each."""
    client = ProbeClient(server.url, creds.api_key, "test")
    try:
        socket_cases(client, "test", dialect)
    finally:
        client.close()
    return client.cases


def usage(server: RunningServer, creds: Creds) -> Records:
    reply = httpx.get(
        f"{server.url}/v1/usage", headers={"xi-api-key": creds.api_key}, params={"product": "tts"}
    )
    assert reply.status_code == 200, reply.text
    records: Records = reply.json()["records"]
    return records


def sockets_of(records: Records) -> Records:
    """The sockets' own records (an utterance's record counts characters)."""
    return [r for r in records if r["status_code"] == 101]


def utterances_of(records: Records) -> Records:
    return [r for r in records if r["status_code"] != 101]


def wait_usage(
    server: RunningServer, creds: Creds, done: Callable[[Records], bool], timeout: float = 60
) -> Records:
    """The workspace's TTS usage records, once ``done`` says they are all there."""
    deadline = time.monotonic() + timeout
    while True:
        records = usage(server, creds)
        if done(records):
            return records
        if time.monotonic() > deadline:
            raise AssertionError(f"usage records never complete: {records}")
        time.sleep(0.2)


def wait_sockets(server: RunningServer, creds: Creds, count: int) -> Records:
    """Wait until ``count`` sockets have been wound down (their records come last)."""
    return wait_usage(server, creds, lambda r: len(sockets_of(r)) >= count)


def transcribe(server: RunningServer, creds: Creds, audio: bytes) -> str:
    reply = httpx.post(
        f"{server.url}/v1/speech-to-text",
        headers={"xi-api-key": creds.api_key},
        data={"model_id": "scribe_v1", "language_code": "en", "enable_logging": "false"},
        files={"file": ("speech.wav", audio, "application/octet-stream")},
        params={"enable_logging": "false"},
        timeout=120,
    )
    assert reply.status_code == 200, reply.text
    return str(reply.json()["text"])


def assert_paths_leave_no_trace(server: RunningServer, cases: list[Case]) -> None:
    server.store.checkpoint()
    leaks = {case.path: server.find_marker(case.marker) for case in cases}
    assert all(not found for found in leaks.values()), leaks


def assert_only_whole_utterances_kept(server: RunningServer, cases: list[Case]) -> None:
    """The negative control: the success path's marker is in history, and only that one."""
    server.store.checkpoint()
    found = {case.path: server.find_marker(case.marker) for case in cases}
    assert {path: bool(places) for path, places in found.items()} == {
        case.path: case.retained_if_allowed for case in cases
    }
    # Kept in history (decrypted there), and nowhere else.
    assert all(place.startswith("history:") for places in found.values() for place in places)
