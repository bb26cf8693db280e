"""Personal data out of a transcript, in memory, before anything of it is stored.

Pure functions over text: phone numbers, payment card numbers (13 to 19 digits that pass the
Luhn check), e-mail addresses, dates (a date of birth is a date; every full date is redacted),
and names: the ones the agent was told (its dynamic variables) and the ones a speaker gives
("my name is ...", "this is ...", "call me ..."). Numbers spoken as words ("four one one one")
are read as digits first, so a spelled-out card or phone number is found too. Each finding is
replaced by its kind in brackets (``[card_number]``); the unredacted text never leaves memory.

Pattern matching is not perfect: a number written in an unusual way can slip through, and some
harmless numbers are removed. It runs on every plan.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_DIGIT_WORDS = {
    "zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
}  # fmt: skip
_SPELLED = re.compile(
    r"\b(?:(?:zero|oh|one|two|three|four|five|six|seven|eight|nine)[\s,.-]*){4,}",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_DIGIT_RUN = re.compile(r"(?<![\w])\+?\d[\d\s().-]{5,}\d(?![\w])")
_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)
_DATES = (
    re.compile(r"\b\d{1,4}[/.-]\d{1,2}[/.-]\d{2,4}\b"),
    re.compile(rf"\b(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}\b", re.IGNORECASE),
    re.compile(
        rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MONTHS})\.?,?\s+\d{{4}}\b", re.IGNORECASE
    ),
)
_NAME_INTRO = re.compile(
    r"\b(?i:my name is|my name's|this is|call me|i am|i'm)\s+"
    r"((?:[A-Z][a-z'-]+)(?:\s+[A-Z][a-z'-]+){0,2})"
)
# Words after "I am" that are not names.
_NOT_NAMES = frozenset({"Sorry", "Fine", "Good", "Not", "Calling", "Here", "Looking", "Just"})


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def _spelled_to_digits(text: str) -> str:
    def digits(match: re.Match[str]) -> str:
        words = re.findall(r"[a-z]+", match.group(0).lower())
        return "".join(_DIGIT_WORDS[w] for w in words) + " "

    return _SPELLED.sub(digits, text)


def _number(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    if 13 <= len(digits) <= 19 and _luhn(digits):
        return "[card_number]"
    if 7 <= len(digits) <= 15:
        return "[phone_number]"
    return match.group(0)


def redact(text: str, names: Iterable[str] = ()) -> str:
    """``text`` with the personal data this module recognises replaced by its kind."""
    names = [*names, *spoken_names(text)]
    out = _spelled_to_digits(text)
    out = _EMAIL.sub("[email_address]", out)
    for pattern in _DATES:
        out = pattern.sub("[date_of_birth]", out)
    out = _DIGIT_RUN.sub(_number, out)
    for name in sorted({n.strip() for n in names if n and n.strip()}, key=len, reverse=True):
        for part in sorted({name, *name.split()}, key=len, reverse=True):
            if len(part) > 1:
                out = re.sub(rf"\b{re.escape(part)}\b", "[name]", out, flags=re.IGNORECASE)

    def intro(match: re.Match[str]) -> str:
        said = match.group(1)
        if said.split()[0] in _NOT_NAMES:
            return match.group(0)
        return match.group(0)[: match.start(1) - match.start(0)] + "[name]"

    return _NAME_INTRO.sub(intro, out)


def spoken_names(text: str) -> list[str]:
    """Names a speaker gave ("my name is Ada Lovelace"), to redact wherever they recur."""
    return [
        m.group(1) for m in _NAME_INTRO.finditer(text) if m.group(1).split()[0] not in _NOT_NAMES
    ]
