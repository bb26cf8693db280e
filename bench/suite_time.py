"""Test-suite time, side by side: an earlier commit's ``make test`` against today's, on the same
tests, interleaved in one run so the machine's drift between runs cancels out.

- **base**: the earlier commit's test steps (by default cb99b3e, the foundation): lint (ruff,
  ruff format, mypy, caches cleared as in CI's fresh clone) then ``pytest`` as its Makefile ran
  it (``--base-pytest``, serial by default).
- **head**: this checkout's ``make test`` steps: ruff, then mypy beside ``pytest -n 2 --dist
  loadfile`` (``--head-pytest``) on the base's tests only, found again where they moved: the
  same file name and test name, else the same test name without its parameters in that file,
  else that name anywhere. Tests added since are not run, so the two sides do the same checks.

The base's source is extracted with ``git archive`` into a temporary folder (nothing is added to
this repository) and runs on this checkout's ``.venv``; that works while its pins are a subset of
today's. Rounds run base, head, head, base, ...; the ratio is head's median over base's.

Run: ``.venv/bin/python bench/suite_time.py [--base cb99b3e] [--rounds 2]`` from the repository
root on an otherwise idle machine (one round is about 10 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
PARAMS = re.compile(r"\[.*\]$")
SUMMARY = re.compile(r"^=+ (.*(?:passed|failed|error).*) in [\d.]+s")


def tool(tree: Path, env: dict[str, str], *cmd: str) -> str:
    """Run one of the venv's tools; its output, or an exit that shows what it said."""
    done = subprocess.run([str(BIN / cmd[0]), *cmd[1:]], cwd=tree, env=env, capture_output=True,
                          text=True)  # fmt: skip
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd[:2])} failed in {tree}:\n{(done.stdout + done.stderr)[-3000:]}")
    return done.stdout


def collect(tree: Path, env: dict[str, str]) -> list[str]:
    out = tool(tree, env, "pytest", "--collect-only", "-q", "-p", "no:cacheprovider")
    return [line.strip() for line in out.splitlines() if "::" in line]


def match(base: list[str], head: list[str]) -> tuple[list[str], list[str]]:
    """Each base test's ids at head (see the module's text), and the base tests found nowhere."""

    def split(node: str) -> tuple[str, str]:
        path, name = node.split("::", 1)
        return path.rsplit("/", 1)[-1], name

    exact = set(head)
    by_file: dict[tuple[str, str], list[str]] = defaultdict(list)
    by_bare_in_file: dict[tuple[str, str], list[str]] = defaultdict(list)
    by_bare: dict[str, list[str]] = defaultdict(list)
    for node in head:
        file, name = split(node)
        by_file[file, name].append(node)
        by_bare_in_file[file, PARAMS.sub("", name)].append(node)
        by_bare[PARAMS.sub("", name)].append(node)
    found: dict[str, None] = {}
    missing = []
    for node in base:
        file, name = split(node)
        bare = PARAMS.sub("", name)
        if node in exact:
            hits = [node]
        else:
            hits = by_file[file, name] or by_bare_in_file[file, bare] or by_bare[bare]
        if not hits:
            missing.append(node)
        found.update(dict.fromkeys(hits))
    return list(found), missing


def lint(tree: Path, env: dict[str, str], types: bool) -> None:
    """Ruff (caches cleared as in a fresh clone), and mypy too when ``types``."""
    for cache in (".mypy_cache", ".ruff_cache", ".pytest_cache"):
        shutil.rmtree(tree / cache, ignore_errors=True)
    code = [p for p in ("src", "tests", "bench") if (tree / p).is_dir()]
    for cmd in (["ruff", "check", *code], ["ruff", "format", "--check", *code]):
        tool(tree, env, *cmd)
    if types:
        tool(tree, env, "mypy", "src")


@dataclass(frozen=True)
class Run:
    wall: float
    cpu: float
    summary: str


def timed(
    tree: Path, env: dict[str, str], pytest_args: list[str], log: Path, types_beside: bool
) -> Run:
    """One ``make test``'s steps (mypy before pytest, or beside it when ``types_beside``); wall
    seconds and the CPU seconds of everything it started."""
    before = os.times()
    start = time.monotonic()
    lint(tree, env, types=not types_beside)
    types = None
    if types_beside:
        types = subprocess.Popen([str(BIN / "mypy"), "src"], cwd=tree, env=env, text=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    with log.open("w") as out:
        done = subprocess.run([str(BIN / "pytest"), "-p", "no:cacheprovider", *pytest_args],
                              cwd=tree, env=env, stdout=out, stderr=subprocess.STDOUT)  # fmt: skip
    if types is not None:
        said = types.communicate()[0]
        if types.returncode != 0:
            sys.exit(f"mypy src failed in {tree}:\n{said[-3000:]}")
    wall = time.monotonic() - start
    after = os.times()
    summary = [m.group(1) for line in log.read_text().splitlines() if (m := SUMMARY.match(line))]
    if done.returncode != 0:
        sys.exit(f"pytest failed ({summary[-1] if summary else done.returncode}); see {log}")
    cpu = sum(after[i] - before[i] for i in (2, 3))  # children's user and system time
    return Run(wall, cpu, summary[-1] if summary else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="cb99b3e", help="the earlier commit")
    parser.add_argument("--rounds", type=int, default=2, help="base+head pairs (default: 2)")
    parser.add_argument("--base-pytest", default="", help="the base's pytest arguments")
    parser.add_argument("--head-pytest", default="-n 2 --dist loadfile", help="head's")
    args = parser.parse_args()

    archive = subprocess.run(["git", "archive", args.base], cwd=ROOT, capture_output=True)
    if archive.returncode != 0:
        sys.exit(f"git archive {args.base}: {archive.stderr.decode(errors='replace').strip()}")
    work = Path(tempfile.mkdtemp(prefix="suite-time-"))
    print(f"working in {work} (removed at the end unless a run fails, to keep its log)")
    base_tree = work / "base"
    base_tree.mkdir()
    subprocess.run(["tar", "-x", "-C", str(base_tree)], input=archive.stdout, check=True)
    clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    base_env = {**clean, "PYTHONPATH": str(base_tree / "src")}
    print(f"collecting the tests of {args.base} and of this checkout ...", flush=True)
    base_ids = collect(base_tree, base_env)
    head_ids, missing = match(base_ids, collect(ROOT, clean))
    print(f"{len(base_ids)} base tests -> {len(head_ids)} at head; not found: {len(missing)}")
    for node in missing:
        print(f"  not found at head: {node}")
    sides = {
        "base": (base_tree, base_env, shlex.split(args.base_pytest), False),
        "head": (ROOT, clean, [*shlex.split(args.head_pytest), *head_ids], True),
    }
    results: dict[str, list[Run]] = {"base": [], "head": []}
    order = [("base", "head"), ("head", "base")]
    for n in range(args.rounds):
        for side in order[n % 2]:
            tree, env, pytest_args, types_beside = sides[side]
            load = os.getloadavg()[0]
            print(f"round {n + 1}: {side} (load {load:.2f}) ...", end=" ", flush=True)
            r = timed(tree, env, pytest_args, work / f"{side}-{n + 1}.log", types_beside)
            results[side].append(r)
            print(f"{r.wall:.0f} s wall, {r.cpu:.0f} CPU-s; {r.summary}", flush=True)
    base_wall = statistics.median(r.wall for r in results["base"])
    head_wall = statistics.median(r.wall for r in results["head"])
    base_cpu = statistics.median(r.cpu for r in results["base"])
    head_cpu = statistics.median(r.cpu for r in results["head"])
    print(f"median wall: base {base_wall:.0f} s, head {head_wall:.0f} s, "
          f"ratio {head_wall / base_wall:.2f}")  # fmt: skip
    print(f"median CPU:  base {base_cpu:.0f} s, head {head_cpu:.0f} s, "
          f"ratio {head_cpu / base_cpu:.2f}")  # fmt: skip
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
