"""Schema fuzzing of the server's own OpenAPI document with schemathesis, as a library.

Each operation gets ``examples`` valid cases and as many invalid ones (a deterministic seed, no
Hypothesis database: nothing is written to disk); every response is checked against the
document. A fuzzer cannot make up audio that decodes, so a valid case carries real speech
wherever the document declares audio (``contentMediaType: audio/*``: uploads, raw bodies,
base64 in JSON); invalid cases keep whatever schemathesis drew. Failures are collected, not
raised, so that Hypothesis never shrinks: a run's time is bounded by its examples. Used by
``tests/api/test_openapi_fuzz.py`` (a few examples) and ``make fuzz``
(``python -m tests.api.openapi_fuzz``, many more).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import hypothesis
import numpy as np
import numpy.typing as npt
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

SKIPPED = frozenset(
    {
        "DELETE /v1/workspace (positive)",
        "DELETE /v1/workspace (negative)",
        "POST /v1/workspace/audit (positive)",
    }
)
"""Cases the run leaves out: deleting the workspace would end the run's own key, and a started
audit sends every probe to the server for minutes, beside the run."""

CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance]
"""What the document promises: the status, the media type, and the body's schema."""

Where = tuple[str, ...]
"""Where a value sits in a request body: property names, ``[]`` for each item of an array."""


@cache
def speech_samples() -> npt.NDArray[np.int16]:
    """A second and a half of speech at 16 kHz, an even number of samples."""
    from tests.spoken import resample, speak

    samples = resample(speak("Hello there, apple river."), 16000)
    return samples[: samples.size - samples.size % 2]


FLOAT_PCM = {"pcm_f32le": "<f4", "pcm_f16le": "<f2"}
"""Raw encodings in which not every bit pattern is a sample (NaN and infinities are not)."""


@cache
def speech(encoding: str | None = None) -> bytes:
    """The speech as a 16-bit WAV (a whole number of 32-bit frames too, for routes told it is
    raw integer or G.711 PCM), or as raw floats for a case that says it sends those."""
    samples = speech_samples()
    if encoding in FLOAT_PCM:
        return (samples / 32768).astype(FLOAT_PCM[encoding]).tobytes()
    from tests.spoken import pcm_wav

    return pcm_wav(samples.astype("<i2").tobytes())


def _resolve(schema: Any, document: dict[str, Any]) -> Any:
    while isinstance(schema, dict) and "$ref" in schema:
        node: Any = document
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def audio_paths(
    schema: Any, document: dict[str, Any], at: Where = ()
) -> Iterator[tuple[Where, bool]]:
    """Where a body of this schema carries audio, and whether there as base64 text."""
    schema = _resolve(schema, document)
    if not isinstance(schema, dict):
        return
    if str(schema.get("contentMediaType", "")).startswith("audio/"):
        yield at, schema.get("contentEncoding") == "base64"
        return
    for name, sub in schema.get("properties", {}).items():
        yield from audio_paths(sub, document, (*at, name))
    if "items" in schema:
        yield from audio_paths(schema["items"], document, (*at, "[]"))
    for keyword in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(keyword, []):
            yield from audio_paths(sub, document, at)


def _filled(value: Any, at: Where, audio: Any) -> Any:
    if not at:
        return audio if value is not None else None
    head, rest = at[0], at[1:]
    if head == "[]" and isinstance(value, list):
        return [_filled(item, rest, audio) for item in value]
    if isinstance(value, dict) and head in value:
        value[head] = _filled(value[head], rest, audio)
    return value


def with_speech(document: dict[str, Any]) -> Callable[[Any], Any]:
    """Puts speech in a case's body wherever the document declares audio: a WAV, or the raw
    samples a Cartesia-style ``encoding`` query parameter names."""

    def fill(case: Any) -> Any:
        operation = document["paths"][case.path][case.method.lower()]
        content = operation.get("requestBody", {}).get("content", {})
        schema = content.get(case.media_type, {}).get("schema")
        encoding = (case.query or {}).get("encoding")
        data = speech(encoding if isinstance(encoding, str) else None)
        for at, as_text in set(audio_paths(schema, document)):
            audio = base64.b64encode(data).decode() if as_text else data
            case.body = _filled(case.body, at, audio)
        return case

    return fill


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


@dataclass(frozen=True)
class Plan:
    """Which cases a run makes: ``examples`` per operation and mode, each named
    ``"POST /path (positive)"``; all but ``skip`` (and :data:`SKIPPED`), or only ``only``."""

    examples: int
    seed: int = 16
    timeout: float = 120
    skip: frozenset[str] = frozenset()
    only: frozenset[str] | None = None

    def takes(self, name: str) -> bool:
        left_out = name in self.skip or name in SKIPPED
        return not left_out and (self.only is None or name in self.only)


def run(base_url: str, api_key: str, examples: int, **plan: Any) -> Report:
    """Fuzz the server's operations as :class:`Plan` (``examples`` and ``plan``) says."""
    # Hypothesis keeps its examples and patches under its home directory (``.hypothesis`` in
    # the working directory): here, a directory removed after the run.
    with tempfile.TemporaryDirectory(prefix="sottovoce-hypothesis-") as home:
        configuration.set_hypothesis_home_dir(home)
        try:
            return _run(base_url, api_key, Plan(examples, **plan))
        finally:
            configuration.set_hypothesis_home_dir(None)


def _run(base_url: str, api_key: str, plan: Plan) -> Report:
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    report = Report()
    call = Caller(base_url, {"authorization": f"Bearer {api_key}"}, plan.timeout, report)
    fill = with_speech(schema.raw_schema)
    for result in schema.get_all_operations():
        operation = result.ok()
        label = f"{operation.method.upper()} {operation.path}"
        started = time.monotonic()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            if not plan.takes(f"{label} ({mode.value})"):
                continue
            cases = operation.as_strategy(mode)
            if mode is GenerationMode.POSITIVE:
                cases = cases.map(fill)
            probe = given(case=cases)(call.probe(label, mode))
            configured = hypothesis.seed(plan.seed)(
                hypothesis.settings(
                    max_examples=plan.examples,
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
            sent = f"query {case.query!r:.200} body {case.body!r:.300}"
            report.rejected_valid.append(f"{where}: {response.text[:300]} (sent {sent})")
        if label.startswith("POST ") and 200 <= response.status_code < 300:
            report.content_successes.append(label)


def main() -> int:
    from tests.conftest import SHARED_ENV
    from tests.harness import RunningServer

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=100)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        metavar="CASES",
        help='leave out a kind of case, e.g. "POST /v1/text-to-voice/design (positive)"',
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sottovoce-fuzz-") as root:
        server = RunningServer(Path(root), env=SHARED_ENV)
        try:
            creds = server.create_workspace("fuzz")
            started = time.monotonic()
            report = run(
                server.url, creds.api_key, args.examples, seed=args.seed, skip=frozenset(args.skip)
            )
            took = time.monotonic() - started
        finally:
            server.stop()
    lines = report.server_errors + report.violations + report.rejected_valid
    slowest = sorted(report.seconds.items(), key=lambda kv: -kv[1])[:8]
    lines.append("slowest: " + ", ".join(f"{k} {v:.1f} s" for k, v in slowest))
    served = Counter(report.content_successes)
    lines.append("served: " + ", ".join(f"{k} {n}" for k, n in sorted(served.items())))
    lines.append(f"{report.summary()} in {took:.0f} s")
    sys.stdout.write("\n".join(lines) + "\n")
    return 1 if report.server_errors or report.violations or report.rejected_valid else 0


if __name__ == "__main__":
    sys.exit(main())
