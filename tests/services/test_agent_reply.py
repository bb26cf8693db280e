"""Pieces of a reply that need no engine: the tool-call scanner, what was heard, placeholders."""

from __future__ import annotations

from sottovoce.services.agent_reply import ToolScanner
from sottovoce.services.agent_spec import name_values, render


def test_the_scanner_speaks_the_text_before_a_tool_call_and_never_the_call() -> None:
    scanner = ToolScanner()
    spoken = "".join(
        scanner.feed(piece)
        for piece in [
            "One mo",
            "ment. <to",
            'ol_call>{"name": "lookup", ',
            '"arguments": {"id": 7}}',
            "</tool_call> extra",
        ]
    )
    rest, call = scanner.finish()
    assert spoken + rest == "One moment. "
    assert call is not None and (call.name, dict(call.arguments)) == ("lookup", {"id": 7})


def test_a_held_back_tail_that_is_not_a_tag_is_spoken_at_the_end() -> None:
    scanner = ToolScanner()
    assert scanner.feed("a < b and <to") == "a < b and "
    assert scanner.finish() == ("<to", None)


def test_a_malformed_call_is_dropped() -> None:
    scanner = ToolScanner()
    scanner.feed("<tool_call>{not json</tool_call>")
    assert scanner.finish() == ("", None)


def test_placeholders_and_the_names_the_agent_was_told() -> None:
    values = {"user_name": "Ada", "order": "42", "system__agent_id": "agent_x"}
    assert render("Hi {{ user_name }}, order {{order}}{{missing}}.", values) == "Hi Ada, order 42."
    assert name_values(values) == ["Ada"]
