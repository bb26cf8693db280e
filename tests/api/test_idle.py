"""Memory given back when the server is idle: once per quiet spell after work, never mid-work."""

from __future__ import annotations

import time
from collections.abc import Callable

import anyio
import httpx

from sottovoce.api.drain import Drain
from sottovoce.api.idle import IdleRelease
from sottovoce.engines.piper import PiperSynthesizer
from sottovoce.engines.registry import EngineRegistry
from tests.harness import Creds, RunningServer
from tests.polling import wait_for


async def until(condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        await anyio.sleep(0.005)


def test_memory_is_given_back_once_per_quiet_spell_and_never_while_work_runs() -> None:
    drain = Drain(0.0, 0.0)
    idle = IdleRelease(drain, EngineRegistry(), idle_s=0.01)

    async def scenario() -> None:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(idle.run_forever)
            await until(lambda: idle.released == 1)  # the engines' warm-up at start-up
            with drain.counting("/v1/text-to-speech/joe"):  # a request (or socket) in flight
                checks = idle.checks
                await until(lambda: idle.checks >= checks + 5)
                assert idle.released == 1
            await until(lambda: idle.released == 2)
            checks = idle.checks
            await until(lambda: idle.checks >= checks + 5)
            assert idle.released == 2  # no work since: nothing more to give back
            tasks.cancel_scope.cancel()

    anyio.run(scenario)


def test_a_voice_unused_while_other_work_runs_gives_its_arena_back() -> None:
    piper = PiperSynthesizer(inference_slots=1, arena=True)
    assert piper.synthesize_piece("The arena grows for this piece.").pcm
    drain = Drain(0.0, 0.0)
    idle = IdleRelease(drain, EngineRegistry([piper]), idle_s=0.05)

    async def scenario() -> None:
        with drain.counting("/v1/speech-to-text/realtime"):  # a socket open all along
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(idle.run_forever)
                await until(lambda: idle.checks >= 3)
                tasks.cancel_scope.cancel()

    anyio.run(scenario)
    assert idle.released == 0  # the server was never idle
    assert not piper.release_memory(0)  # already given back: nothing left to give


def test_release_off_never_looks() -> None:
    idle = IdleRelease(Drain(0.0, 0.0), EngineRegistry(), idle_s=0)
    anyio.run(idle.run_forever)  # returns at once
    assert (idle.checks, idle.released) == (0, 0)


def test_the_server_gives_memory_back_after_work(server: RunningServer, workspace: Creds) -> None:
    def released() -> int:
        return server.logs().count('"event":"memory.released"')

    before = released()
    reply = httpx.post(
        f"{server.url}/v1/text-to-speech/joe",
        json={"text": "Memory comes back."},
        headers={"xi-api-key": workspace.api_key},
        timeout=120,
    )
    assert reply.status_code == 200
    wait_for(lambda: released() > before, "a memory.released event after the request")
