"""The deployment files (deploy/): every setting they pass exists in the Settings class and is
valid there, the probes point at /readyz and /healthz, and the orchestrators wait longer than
the drain before they kill. Parsed, not run: no Docker or Kubernetes is needed."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from sottovoce.config import Settings

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
PREFIX = "SOTTOVOCE_"


def load(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def k8s(kind: str) -> dict[str, Any]:
    found = [d for p in sorted((DEPLOY / "k8s").glob("*.yaml")) for d in load(p)]
    [doc] = [d for d in found if d["kind"] == kind]
    return doc


def env_file(path: Path) -> dict[str, str]:
    lines = [line.strip() for line in path.read_text().splitlines()]
    pairs = (line.partition("=") for line in lines if line and not line.startswith("#"))
    return {name: value for name, _, value in pairs}


def compose_replicas() -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = load(DEPLOY / "compose.yaml")[0]["services"]
    return {name: s for name, s in services.items() if s.get("image", "").startswith("sottovoce")}


def compose_env(service: dict[str, Any]) -> dict[str, str]:
    """The environment a compose service gets: its env file (the example), then its own."""
    env = env_file(DEPLOY / (service["env_file"] + ".example"))
    env.update({k: str(v) for k, v in service["environment"].items()})
    return env


def deployment_container() -> dict[str, Any]:
    [container] = k8s("Deployment")["spec"]["template"]["spec"]["containers"]
    return container


def deployment_env() -> dict[str, str]:
    """The container's environment, values taken from the Secret where they come from it."""
    secret = k8s("Secret")
    env = {}
    for var in deployment_container()["env"]:
        if "value" in var:
            env[var["name"]] = var["value"]
        else:
            ref = var["valueFrom"]["secretKeyRef"]
            assert ref["name"] == secret["metadata"]["name"]
            env[var["name"]] = secret["stringData"][ref["key"]]
    return env


def setting_exists(variable: str) -> bool:
    """Whether SOTTOVOCE_A__B names field b of the section a of the Settings class."""
    model: type[BaseModel] | None = Settings
    for part in variable.removeprefix(PREFIX).lower().split("__"):
        if model is None or part not in model.model_fields:
            return False
        annotation = model.model_fields[part].annotation
        is_section = isinstance(annotation, type) and issubclass(annotation, BaseModel)
        model = annotation if is_section else None
    return True


def settings_from(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in [n for n in os.environ if n.startswith(PREFIX)]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings()


def sources() -> dict[str, dict[str, str]]:
    found = {f"compose {name}": compose_env(s) for name, s in compose_replicas().items()}
    found["k8s Deployment"] = deployment_env()
    return found


def test_the_walk_tells_settings_from_typos() -> None:
    assert setting_exists("SOTTOVOCE_SERVER__DRAIN_GRACE_S")
    assert setting_exists("SOTTOVOCE_MASTER_KEY")
    assert not setting_exists("SOTTOVOCE_SERVER__DRAIN_GRACE")
    assert not setting_exists("SOTTOVOCE_DRAIN_GRACE_S")
    assert not setting_exists("SOTTOVOCE_MASTER_KEY__X")


@pytest.mark.parametrize("source", sorted(sources()))
def test_every_variable_passed_is_a_valid_setting(
    source: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = sources()[source]
    ours = [name for name in env if name.startswith(PREFIX)]
    assert [name for name in ours if not setting_exists(name)] == []
    settings = settings_from({n: env[n] for n in ours}, monkeypatch)
    # Replicas: a shared PostgreSQL for the data, a key store of its own, one master key.
    assert settings.resolved_database_url.startswith("postgresql+psycopg://")
    assert settings.keystore_url is not None
    assert settings.keystore_url.startswith("postgresql+psycopg://")
    assert settings.keystore_url != settings.resolved_database_url
    assert settings.master_key is not None
    assert settings.server.host == "0.0.0.0"


def test_the_secrets_come_from_the_secret_and_the_env_file() -> None:
    secret_names = {"SOTTOVOCE_MASTER_KEY", "SOTTOVOCE_DATABASE_URL", "SOTTOVOCE_KEYSTORE_URL"}
    from_secret = {v["name"] for v in deployment_container()["env"] if "valueFrom" in v}
    assert from_secret == secret_names
    for service in compose_replicas().values():
        assert secret_names <= set(env_file(DEPLOY / (service["env_file"] + ".example")))
        assert secret_names.isdisjoint(service["environment"])
    ignored = (DEPLOY / ".gitignore").read_text().split()
    assert {s["env_file"] for s in compose_replicas().values()} <= set(ignored)


def test_the_k8s_probes_and_grace_period(monkeypatch: pytest.MonkeyPatch) -> None:
    pod = k8s("Deployment")["spec"]["template"]["spec"]
    container = deployment_container()
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    port = {p["name"]: p["containerPort"] for p in container["ports"]}
    settings = settings_from(deployment_env(), monkeypatch)
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert port[container[probe]["httpGet"]["port"]] == settings.server.port
    [sleep] = [int(a) for a in container["lifecycle"]["preStop"]["exec"]["command"][1:]]
    assert pod["terminationGracePeriodSeconds"] > sleep + settings.server.drain_grace_s
    # Requests sized from the engines' resident memory (about 1.5 GiB).
    memory = container["resources"]["requests"]["memory"]
    assert re.fullmatch(r"\d+Mi", memory) and int(memory[:-2]) >= 1536


def test_the_k8s_objects_point_at_one_another() -> None:
    deployment = k8s("Deployment")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    service = k8s("Service")["spec"]
    assert service["selector"].items() <= labels.items()
    assert service.get("sessionAffinity", "None") == "None"
    target = k8s("HorizontalPodAutoscaler")["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])
    assert k8s("HorizontalPodAutoscaler")["spec"]["minReplicas"] >= 2


def test_compose_waits_out_the_drain_and_checks_readiness(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, service in compose_replicas().items():
        settings = settings_from(compose_env(service), monkeypatch)
        grace = re.fullmatch(r"(\d+)s", service["stop_grace_period"])
        assert grace, name
        assert int(grace[1]) > settings.server.drain_grace_s
        assert any("/readyz" in part for part in service["healthcheck"]["test"])
        assert "/tmp" in service["tmpfs"]
    assert len(compose_replicas()) >= 2


def test_haproxy_balances_round_robin_on_readiness() -> None:
    config = (DEPLOY / "haproxy.cfg").read_text()
    lines = [line.split("#")[0].strip() for line in config.splitlines()]
    assert "balance roundrobin" in lines
    assert "http-check send meth GET uri /readyz" in lines
    assert "http-check expect status 200" in lines
    # Sticky-free, and it logs no request lines (they carry keys in query strings).
    assert not [line for line in lines if line.split()[:1] in (["cookie"], ["stick"], ["log"])]
    servers = [line.split()[2] for line in lines if line.startswith("server ")]
    assert sorted(servers) == sorted(f"{name}:8000" for name in compose_replicas())


@pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy is not installed")
def test_haproxy_accepts_the_config() -> None:
    checked = subprocess.run(
        ["haproxy", "-c", "-f", str(DEPLOY / "haproxy.cfg")], capture_output=True, timeout=30
    )
    assert checked.returncode == 0, checked.stderr.decode(errors="replace")
