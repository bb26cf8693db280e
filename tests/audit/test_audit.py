"""`sottovoce audit`: it covers every endpoint, passes on a clean server, catches a leak."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.routing import iter_route_contexts

from sottovoce.app import FRAMEWORK_ROUTES, SURFACES, create_app
from sottovoce.audit.flaky_upstream import FlakyUpstream
from sottovoce.audit.probe import AUDIT_DEAD_UPSTREAM, AUDIT_UPSTREAM, UPSTREAM_STT, UPSTREAM_TTS
from sottovoce.config import Settings
from tests.harness import RunningServer, free_port

LEAKY_PLUGIN = Path(__file__).parent.parent / "leaky_plugin"
PROBES = [probe for surface in SURFACES for probe in surface.probes]
CONTENT_FREE_ROUTES = FRAMEWORK_ROUTES | {r for s in SURFACES for r in s.content_free_routes}


def app_routes(tmp_path: Path) -> set[tuple[str, str]]:
    app = create_app(Settings(data_dir=tmp_path, engines={"preload": False}))
    routes: set[tuple[str, str]] = set()
    for context in iter_route_contexts(app.routes):
        methods = context.methods or {"WS"}
        routes |= {(method, context.path) for method in methods}
    assert ("GET", "/v1/workspace") in routes  # the listing itself works
    return routes


WHOLE_AUDIT = pytest.mark.timeout(900)
"""A whole audit runs every probe: about 30-50 s on an idle machine, several minutes on a busy
one (seen: over 300 s with both cores taken by other work). The audit process is bounded at
900 s itself; this is the test's guard against a hang, not a speed target."""


def test_every_route_has_a_probe_or_is_declared_content_free(tmp_path: Path) -> None:
    probed = {route for probe in PROBES for route in probe.routes}
    missing = app_routes(tmp_path) - probed - CONTENT_FREE_ROUTES
    assert missing == set(), f"routes without an audit probe: {sorted(missing)}"


def test_probes_name_only_real_routes(tmp_path: Path) -> None:
    routes = app_routes(tmp_path)
    stale = {r for p in PROBES for r in p.routes} - routes
    assert stale == set()


def run_audit(
    server: RunningServer, *only: str, also: list[RunningServer] | None = None
) -> tuple[int, dict]:  # type: ignore[type-arg]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOTTOVOCE_")}
    env.update({k: v for k, v in server.env.items() if k.startswith("SOTTOVOCE_")})
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sottovoce",
            "audit",
            "--url",
            server.url,
            "--tmp-dir",
            str(server.tmp_dir),
            "--log-file",
            str(server.stdout_path),
            "--log-file",
            str(server.stderr_path),
            "--json",
            "-",
            *(arg for place in server.extra_places for arg in ("--search-dir", str(place))),
            *(
                arg
                for other in also or []
                for place in (other.data_dir, other.log_dir)
                for arg in ("--search-dir", str(place))
            ),
            *(arg for name in only for arg in ("--only", name)),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    return result.returncode, json.loads(result.stdout)


@pytest.fixture(scope="module")
def flaky() -> Iterator[FlakyUpstream]:
    upstream = FlakyUpstream()
    yield upstream
    upstream.close()


@pytest.fixture(scope="module")
def upstream(shared_sqlite_server: RunningServer) -> RunningServer:
    """The speech provider the audit's upstream paths go through: the shared server."""
    return shared_sqlite_server


@pytest.fixture(scope="module")
def server(start_server, flaky: FlakyUpstream, upstream: RunningServer) -> RunningServer:  # type: ignore[no-untyped-def]
    """A clean server with upstream providers that cannot be reached (the 502 paths), a chat
    provider that breaks off mid-reply, and the audit's upstream speech provider (a second
    sottovoce, with a zero-retention account)."""
    dead = {
        "name": AUDIT_DEAD_UPSTREAM,
        "base_url": f"http://127.0.0.1:{free_port()}/v1",
        "models": ["probe"],
        "retention_sync": "none",
        "retention_streaming": "none",
        "timeout_s": 5,
    }
    models = {"kind": "deepgram", "stt_models": [UPSTREAM_STT], "tts_models": [UPSTREAM_TTS]}
    speech = [
        {
            **models,
            "name": AUDIT_UPSTREAM,
            "base_url": upstream.url,
            "api_key": upstream.create_workspace("audit-provider", zdr=True).api_key,
            "retention_sync": "zdr-by-agreement",
            "retention_streaming": "zdr-by-agreement",
        },
        {**models, "name": AUDIT_DEAD_UPSTREAM, "base_url": f"http://127.0.0.1:{free_port()}"},
    ]
    # A matching budget of one candidate: the voice-cloning probe's job takes seconds.
    env = {
        "SOTTOVOCE_LLM__UPSTREAM": json.dumps([dead, flaky.provider()]),
        "SOTTOVOCE_SPEECH__PROVIDERS": json.dumps(speech),
        "SOTTOVOCE_VOICES__MATCH_EVALUATIONS": "1",
    }
    srv: RunningServer = start_server(env=env)
    return srv


@WHOLE_AUDIT
def test_the_audit_passes_on_a_clean_server(server: RunningServer, upstream: RunningServer) -> None:
    code, report = run_audit(server, also=[upstream])
    assert report["problems"] == []
    assert code == 0
    assert report["control_found"] > 0
    zdr = [r for r in report["results"] if r["run"] == "zdr"]
    assert {r["probe"] for r in zdr} == {p.name for p in PROBES}
    assert all(r["leaks"] == [] for r in zdr)
    paths = {(r["probe"], r["path"]): r for r in zdr}
    assert paths[("llm.openai_chat", "upstream_error")]["status"] == 502
    assert paths[("agents.elevenlabs_socket", "upstream_mid_reply")]["status"] == 101
    assert paths[("agents.openai_realtime", "upstream_mid_reply")]["status"] == 101
    for probe in ("stt.deepgram", "tts.deepgram"):
        assert paths[(probe, "upstream")]["status"] == 200
        assert paths[(probe, "upstream_error")]["status"] == 502
    assert paths[("stt.files", "openai.corrupt_audio")]["status"] == 422
    for style in ("separate", "combined"):
        assert paths[("stt.files", f"elevenlabs.multi_channel_{style}")]["status"] == 200
    for probe, path, status in (
        ("dialogue", "success", 200), ("dialogue", "unknown_voice", 404),
        ("dialogue", "too_many_inputs", 422), ("dialogue", "empty_text", 422),
        ("sts", "success", 200), ("sts", "sdk_path_stream", 200), ("sts", "corrupt_audio", 422),
        ("sts", "unknown_voice", 404), ("voices", "add", 403), ("voices", "design", 403),
        ("voices.cartesia", "clone", 403),
    ):  # fmt: skip
        assert paths[(probe, path)]["status"] == status, (probe, path)
    # The control kept the STT audio (raw samples included) and found it, decrypted, in history.
    control = {(r["probe"], r["path"]): r for r in report["results"] if r["run"] == "control"}
    assert control[("stt.files", "openai.raw_samples")]["found_in_history"] is True
    # ... and a voice's samples, name and description, decrypted, with the voice.
    assert control[("voices", "add")]["status"] == 200
    assert control[("voices", "add")]["found_in_history"] is True
    assert control[("dialogue", "success")]["found_in_history"] is True
    assert control[("stt.deepgram", "upstream")]["found_in_history"] is True
    # Every probe, success and failure paths, at DEBUG: not one temp file.
    assert list(server.tmp_dir.rglob("*")) == []


@pytest.fixture(scope="module")
def leaky(start_server) -> RunningServer:  # type: ignore[no-untyped-def]
    server: RunningServer = start_server(
        env={"PYTHONPATH": os.pathsep.join([str(LEAKY_PLUGIN), *sys.path])}
    )
    return server


@WHOLE_AUDIT
def test_a_planted_leak_makes_the_audit_fail(leaky: RunningServer) -> None:
    code, report = run_audit(leaky, "tts.cartesia")  # one probe is enough to be caught
    assert code == 1
    leaks = [r for r in report["results"] if r["run"] == "zdr" and r["leaks"]]
    assert leaks
    assert any("stderr.log" in leak for r in leaks for leak in r["leaks"])


@WHOLE_AUDIT
def test_an_audit_that_starts_its_own_server_leaves_nothing_in_the_temp_dir(
    tmp_path: Path,
) -> None:
    """Its server gets a private TMPDIR; once the audit is over, that directory is gone."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOTTOVOCE_")}
    env.update({"TMPDIR": str(tmp), "SOTTOVOCE_DATA_DIR": str(tmp_path / "data")})
    # One probe at a time here; the other audits run two at a time (the default).
    one_at_a_time = ["--only", "tts.openai", "--jobs", "1", "--json", "-"]
    result = subprocess.run(
        [sys.executable, "-m", "sottovoce", "audit", *one_at_a_time],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert {r["probe"] for r in report["results"]} == {"tts.openai"}
    assert list(tmp.iterdir()) == []
