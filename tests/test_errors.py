"""The error tree drawn in ``sottovoce.errors`` is the true one: parents, statuses and codes."""

from __future__ import annotations

import inspect
import re

import sottovoce.errors as errors
from sottovoce.errors import SottovoceError

LINE = re.compile(r"^(?P<lead>[ │├└─]*)(?P<name>[A-Z]\w+)\s+(?P<status>\d{3}) (?P<code>\w+)")


def drawn() -> list[tuple[int, str, int, str]]:
    """(depth, class name, status, code) for each line of the docstring's tree."""
    rows = []
    for line in (errors.__doc__ or "").splitlines():
        match = LINE.match(line.removeprefix("    "))
        if match:
            depth = len(match["lead"]) // 4
            rows.append((depth, match["name"], int(match["status"]), match["code"]))
    return rows


def test_the_drawing_matches_the_classes() -> None:
    parents: list[str] = []
    for depth, name, status, code in drawn():
        cls = getattr(errors, name)
        assert (cls.status, cls.code) == (status, code), name
        parents = [*parents[:depth], name]
        if depth:
            assert cls.__bases__ == (getattr(errors, parents[depth - 1]),), name


def test_every_error_class_is_drawn() -> None:
    classes = {
        name
        for name, obj in inspect.getmembers(errors, inspect.isclass)
        if issubclass(obj, SottovoceError)
    }
    assert classes == {name for _, name, _, _ in drawn()}
