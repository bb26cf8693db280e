"""Redaction, in memory, of what a stored transcript must not hold."""

from __future__ import annotations

import pytest

from sottovoce.services.redaction import redact, spoken_names


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Card 4111 1111 1111 1111 please", "Card [card_number] please"),
        ("card 4111-1111-1111-1111.", "card [card_number]."),
        ("Call +1 (555) 123-4567 now", "Call [phone_number] now"),
        ("mail ada.l@example.co.uk today", "mail [email_address] today"),
        ("born 04/03/1985", "born [date_of_birth]"),
        ("born March 3rd, 1985", "born [date_of_birth]"),
        ("born 3 of March 1985", "born [date_of_birth]"),
        ("four one one one one one one one one one one one one one one one", "[card_number] "),
        (
            "my number is five five five one two three four five six seven",
            "my number is [phone_number] ",
        ),
        ("order 12345 ships today", "order 12345 ships today"),
        ("I am fine, thanks", "I am fine, thanks"),
    ],
)
def test_personal_data_is_replaced_by_its_kind(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_names_told_and_names_given_are_redacted_wherever_they_recur() -> None:
    text = "Hi Zebulon Quark. My name is Ada Lovelace, and Ada is fine."
    assert redact(text, ["Zebulon Quark"]) == "Hi [name]. My name is [name], and [name] is fine."
    assert spoken_names("this is Grace Hopper calling") == ["Grace Hopper"]
    assert spoken_names("I'm Sorry to bother you") == []
