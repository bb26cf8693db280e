"""Schema fuzzing of the server's own OpenAPI document with schemathesis, as a library.

Each operation gets ``examples`` valid cases and as many invalid ones (a deterministic seed, no
Hypothesis database: nothing is written to disk); every response is checked against the
document. Failures are collected, not raised, so that Hypothesis never shrinks: a run's time is
bounded by its examples. Used by ``tests/api/test_openapi_fuzz.py`` (a few examples) and
``make fuzz`` (``python -m tests.api.openapi_fuzz``, many more).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hypothesis
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, configuration, given
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

SKIPPED = {("DELETE", "/v1/workspace")}
"""Operations the run leaves out: deleting the workspace would end the run's own key."""

CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance]
"""What the document promises: the status, the media type, and the body's schema."""


@dataclass
class Report:
    cases: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    content_successes: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    rejected_valid: list[str] = field(default_factory=list)
    """Cases valid by the document that the server refused as invalid (422)."""

    def summary(self) -> str:
        return (
            f"{self.cases} cases, statuses {dict(sorted(self.statuses.items()))}, "
            f"{len(self.server_errors)} 5xx, {len(self.violations)} schema violations, "
            f"{len(self.rejected_valid)} valid cases refused, "
            f"{len(self.content_successes)} successful content POSTs"
        )


def _describe(failure: BaseException) -> str:
    failures = failure.exceptions if isinstance(failure, FailureGroup) else (failure,)
    return "; ".join(f"{type(f).__name__}: {' '.join(str(f).split())[:300]}" for f in failures)


def run(
    base_url: str,
    api_key: str,
    examples: int,
    seed: int = 16,
    timeout: float = 120,
    skip: set[str] | None = None,
) -> Report:
    """Fuzz every operation but ``skip`` (``"POST /path (positive)"``) and :data:`SKIPPED`."""
    # Hypothesis keeps its examples and patches under its home directory (``.hypothesis`` in
    # the working directory): here, a directory removed after the run.
    with tempfile.TemporaryDirectory(prefix="sottovoce-hypothesis-") as home:
        configuration.set_hypothesis_home_dir(home)
        try:
            return _run(base_url, api_key, examples, seed, timeout, skip or set())
        finally:
            configuration.set_hypothesis_home_dir(None)


def _run(
    base_url: str, api_key: str, examples: int, seed: int, timeout: float, skip: set[str]
) -> Report:
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    report = Report()
    call = Caller(base_url, {"authorization": f"Bearer {api_key}"}, timeout, report)
    for result in schema.get_all_operations():
        operation = result.ok()
        label = f"{operation.method.upper()} {operation.path}"
        if (operation.method.upper(), operation.path) in SKIPPED:
            continue
        started = time.monotonic()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            if f"{label} ({mode.value})" in skip:
                continue
            probe = given(case=operation.as_strategy(mode))(call.probe(label, mode))
            configured = hypothesis.seed(seed)(
                hypothesis.settings(
                    max_examples=examples,
                    database=None,
                    deadline=None,
                    phases=[Phase.generate],
                    suppress_health_check=list(HealthCheck),
                    print_blob=False,
                )(probe)
            )
            with contextlib.suppress(hypothesis.errors.Unsatisfiable):
                configured()
        report.seconds[label] = time.monotonic() - started
    return report


@dataclass
class Caller:
    base_url: str
    headers: dict[str, str]
    timeout: float
    report: Report
    session: requests.Session = field(default_factory=requests.Session)

    def probe(self, label: str, mode: GenerationMode) -> Callable[[Any], None]:
        def probe(case: Any) -> None:
            self.check(case, label, mode)

        return probe

    def check(self, case: Any, label: str, mode: GenerationMode) -> None:
        report = self.report
        try:
            response = case.call(
                base_url=self.base_url,
                headers=self.headers,
                session=self.session,
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            report.server_errors.append(f"{label} ({mode.value}): {type(exc).__name__}")
            return
        report.cases += 1
        report.statuses[response.status_code] += 1
        where = f"{label} ({mode.value}) -> {response.status_code}"
        if response.status_code >= 500:
            report.server_errors.append(f"{where}: {case.as_curl_command()}")
        try:
            case.validate_response(response, checks=CHECKS)
        except (AssertionError, FailureGroup) as failure:
            report.violations.append(f"{where}: {_describe(failure)}")
        if mode is GenerationMode.POSITIVE and response.status_code == 422:
            report.rejected_valid.append(f"{where}: {response.text[:300]}")
        if label.startswith("POST ") and 200 <= response.status_code < 300:
            report.content_successes.append(label)


def main() -> int:
    from tests.conftest import SHARED_ENV
    from tests.harness import RunningServer

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=100)
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sottovoce-fuzz-") as root:
        server = RunningServer(Path(root), env=SHARED_ENV)
        try:
            creds = server.create_workspace("fuzz")
            started = time.monotonic()
            report = run(server.url, creds.api_key, args.examples, args.seed)
            took = time.monotonic() - started
        finally:
            server.stop()
    lines = report.server_errors + report.violations + report.rejected_valid
    slowest = sorted(report.seconds.items(), key=lambda kv: -kv[1])[:8]
    lines.append("slowest: " + ", ".join(f"{k} {v:.1f} s" for k, v in slowest))
    lines.append(f"{report.summary()} in {took:.0f} s")
    sys.stdout.write("\n".join(lines) + "\n")
    return 1 if report.server_errors or report.violations else 0


if __name__ == "__main__":
    sys.exit(main())
