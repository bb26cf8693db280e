"""The cores a replica may use: its CPU affinity, capped by its cgroup's CPU quota (v2 or v1),
or what ``engines.cores`` says; the Whisper worker pool is sized from them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sottovoce.config_capacity import EngineSettings, cpu_quota, usable_cores


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n")


def test_a_cgroup_v2_quota_is_read_from_the_process_s_own_cgroup(tmp_path: Path) -> None:
    write(tmp_path / "kubepods" / "pod1" / "cpu.max", "150000 100000")
    write(tmp_path / "cpu.max", "max 100000")
    assert cpu_quota(tmp_path, {"": "/kubepods/pod1"}) == 1.5
    # Inside a container's own cgroup namespace the process's cgroup is the root.
    assert cpu_quota(tmp_path, {"": "/"}) is None
    write(tmp_path / "cpu.max", "400000 100000")
    assert cpu_quota(tmp_path, {"": "/"}) == 4.0


def test_a_cgroup_v1_quota_counts_too(tmp_path: Path) -> None:
    write(tmp_path / "cpu" / "docker" / "abc" / "cpu.cfs_quota_us", "200000")
    write(tmp_path / "cpu" / "docker" / "abc" / "cpu.cfs_period_us", "100000")
    assert cpu_quota(tmp_path, {"cpu": "/docker/abc", "cpuacct": "/docker/abc"}) == 2.0
    write(tmp_path / "cpu" / "docker" / "abc" / "cpu.cfs_quota_us", "-1")
    assert cpu_quota(tmp_path, {"cpu": "/docker/abc"}) is None


def test_no_cgroup_files_no_quota(tmp_path: Path) -> None:
    assert cpu_quota(tmp_path, {"": "/", "cpu": "/"}) is None
    assert cpu_quota(tmp_path, {}) is None


def test_the_usable_cores_are_at_most_the_affinity_set() -> None:
    cores = usable_cores()
    assert 1 <= cores <= len(os.sched_getaffinity(0))


@pytest.mark.parametrize(
    ("cores", "threads", "workers"), [(1, 2, 1), (2, 2, 1), (8, 2, 4), (8, 1, 8)]
)
def test_whisper_gets_a_worker_per_threads_cores(cores: int, threads: int, workers: int) -> None:
    engines = EngineSettings(cores=cores, threads=threads)
    assert engines.usable_cores() == cores
    assert engines.whisper_workers() == workers
