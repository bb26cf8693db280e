"""Reading one parameter sent as text (a form field, a socket's query): a true/false flag or a
number within bounds. Errors name the parameter, never the value sent."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sottovoce.errors import InvalidRequest

MAX_UNIX_SECONDS = 253_402_300_799
"""23:59:59 on 31 December 9999: the latest time a ``*_unix`` parameter may name (in
milliseconds it still fits the 64-bit columns it is compared with)."""


def _absent(raw: str | None) -> bool:
    return raw is None or raw in ("", "null")


def flag(raw: str | None, name: str) -> bool | None:
    """``true``/``false`` (or ``1``/``0``); ``None`` when not sent."""
    if raw is None or _absent(raw):
        return None
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise InvalidRequest(f"'{name}' must be true or false.", fields=[name])


def number(raw: str | None, name: str, low: float, high: float) -> float | None:
    """A number from ``low`` to ``high``; ``None`` when not sent."""
    if raw is None or _absent(raw):
        return None
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not low <= value <= high:
        raise InvalidRequest(f"'{name}' must be a number from {low:g} to {high:g}.", fields=[name])
    return value


NON_BLANK: dict[str, Any] = {"minLength": 1, "pattern": r"\S"}
"""For the OpenAPI document: a text the server refuses when it is empty or only spaces."""


def one_of(values: Iterable[str]) -> dict[str, Any]:
    """For the OpenAPI document: a value the server checks against a fixed set."""
    return {"enum": sorted(values)}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """For the OpenAPI document: ``schema``, or null (as ``json_schema_extra`` of an optional
    field, it replaces the field's own ``anyOf``)."""
    return {"anyOf": [schema, {"type": "null"}]}


def not_null(schema: dict[str, Any]) -> None:
    """For the OpenAPI document (as ``json_schema_extra`` of an optional field): the field may
    be left out, but not sent as null."""
    if schema.get("default", ...) is None:
        del schema["default"]  # left out, not null
    choices = [s for s in schema.pop("anyOf", ()) if s.get("type") != "null"]
    if len(choices) == 1:
        schema.update(choices[0])
    else:
        schema["anyOf"] = choices
