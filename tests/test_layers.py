"""The house rules, read from the code: which package may import which.

Every module of the package is parsed (not imported) and every import it makes, at the top or
inside a function, is checked against the layers of ``DESIGN.md``: the privacy ground floor
imports nothing of ours but the errors; products (``services``) know no vendor and no web
framework; engines know no product and no surface; the store, audio and configuration know
nothing above them.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import sottovoce

PACKAGE = Path(sottovoce.__file__).parent
WEB_FRAMEWORKS = ("fastapi", "starlette", "uvicorn")

# module prefix -> imports it must not make
RULES: dict[str, tuple[str, ...]] = {
    "sottovoce.privacy": (
        "sottovoce.api",
        "sottovoce.services",
        "sottovoce.engines",
        "sottovoce.store",
        "sottovoce.audio",
        "sottovoce.audit",
        "sottovoce.config",
        "sottovoce.config_capacity",
        "sottovoce.app",
        "sottovoce.cli",
    ),
    "sottovoce.services": ("sottovoce.api", "sottovoce.app", "sottovoce.cli", *WEB_FRAMEWORKS),
    "sottovoce.engines": ("sottovoce.services", "sottovoce.api", "sottovoce.app", *WEB_FRAMEWORKS),
    "sottovoce.store": (
        "sottovoce.services",
        "sottovoce.api",
        "sottovoce.engines",
        "sottovoce.app",
    ),
    "sottovoce.audio": (
        "sottovoce.services",
        "sottovoce.api",
        "sottovoce.engines",
        "sottovoce.store",
        "sottovoce.app",
    ),
    "sottovoce.config": ("sottovoce.engines", "sottovoce.services", "sottovoce.api"),
    "sottovoce.config_capacity": ("sottovoce.engines", "sottovoce.services", "sottovoce.api"),
    # The errors are the one module below the ground floor: they import nothing of ours.
    "sottovoce.errors": (
        "sottovoce.privacy",
        "sottovoce.config",
        "sottovoce.config_capacity",
        "sottovoce.store",
        "sottovoce.engines",
        "sottovoce.audio",
        "sottovoce.services",
        "sottovoce.api",
        "sottovoce.audit",
        "sottovoce.app",
        "sottovoce.cli",
    ),
    "sottovoce.audit": ("sottovoce.api", "sottovoce.services", "sottovoce.app"),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        yield module_name(path), path


def imports_of(name: str, path: Path) -> set[str]:
    """Every module ``name`` imports, relative imports resolved."""
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return found


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def forbidden(name: str, imported: str) -> bool:
    return any(
        _within(name, prefix) and any(_within(imported, b) for b in banned)
        for prefix, banned in RULES.items()
    )


def test_the_package_keeps_its_layers() -> None:
    broken = [
        f"{name} imports {imported}"
        for name, path in modules()
        for imported in sorted(imports_of(name, path))
        if forbidden(name, imported)
    ]
    assert broken == []


@pytest.mark.parametrize(
    ("name", "imported", "expected"),
    [
        ("sottovoce.privacy.policy", "sottovoce.engines.base", True),
        ("sottovoce.privacy.policy", "sottovoce.errors", False),
        ("sottovoce.services.tts", "fastapi", True),
        ("sottovoce.services.tts", "fastapi.responses", True),
        ("sottovoce.services.tts", "sottovoce.engines.base", False),
        ("sottovoce.engines.piper", "sottovoce.services.events", True),
        ("sottovoce.api.openai.chat", "sottovoce.services.chat", False),
        ("sottovoce.errors", "sottovoce.config", True),
    ],
)
def test_the_rules_catch_what_they_should(name: str, imported: str, expected: bool) -> None:
    assert forbidden(name, imported) is expected


def test_every_module_is_read_and_relative_imports_resolve(tmp_path: Path) -> None:
    names = {name for name, _ in modules()}
    assert {
        "sottovoce.privacy.policy",
        "sottovoce.services.context",
        "sottovoce.api.inworld",
    } <= names
    fake = tmp_path / "sottovoce" / "services"
    fake.mkdir(parents=True)
    module = fake / "x.py"
    module.write_text("from ..api import surface\nfrom . import events\n")
    assert imports_of("sottovoce.services.x", module) >= {
        "sottovoce.api.surface",
        "sottovoce.services.events",
    }
