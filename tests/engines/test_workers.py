"""The inference worker pool: at most its size of calls at once, the others waiting in turn,
and how long the call or caller kept waiting longest has waited."""

from __future__ import annotations

import threading
import time

import anyio

from sottovoce.engines.workers import WorkerPool


def test_calls_past_the_pool_s_size_wait_and_the_backlog_says_how_long() -> None:
    pool = WorkerPool(1)
    gate = threading.Event()
    order: list[str] = []

    def held() -> str:
        gate.wait(30)
        order.append("held")
        return "held"

    def quick(name: str) -> str:
        order.append(name)
        return name

    async def main() -> list[str]:
        results: list[str] = []

        async def run(call: object) -> None:
            results.append(await pool.run(call))  # type: ignore[arg-type]

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(run, held)
            while pool.busy == 0:
                await anyio.sleep(0.01)
            tasks.start_soon(run, lambda: quick("first"))
            tasks.start_soon(run, lambda: quick("second"))
            while pool.waiting < 2:
                await anyio.sleep(0.01)
            assert pool.backlog_s() >= 0
            # Measured from when the oldest began to wait, whatever the clock says now.
            later = pool.backlog_s(now=time.monotonic() + 1e6)
            assert later > 1e5
            gate.set()
        assert (pool.waiting, pool.busy, pool.backlog_s()) == (0, 0, 0.0)
        return results

    assert anyio.run(main) == ["held", "first", "second"]
    assert order == ["held", "first", "second"]


def test_a_pool_of_two_runs_two_at_once() -> None:
    pool = WorkerPool(2)
    both = threading.Barrier(2, timeout=30)

    async def main() -> None:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(pool.run, both.wait)
            tasks.start_soon(pool.run, both.wait)  # would time out (BrokenBarrierError) if serial

    anyio.run(main)
    assert pool.busy == 0


def test_a_caller_held_up_by_the_pool_s_work_counts_in_the_backlog() -> None:
    pool = WorkerPool(1)
    with pool.holding_up():
        now = time.monotonic()
        assert pool.backlog_s(now=now + 5) >= 5
        with pool.holding_up():  # the oldest counts
            assert pool.backlog_s(now=now + 5) >= 5
    assert pool.backlog_s(now=now + 5) == 0.0
