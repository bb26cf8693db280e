"""Split text for synthesis so the first audio leaves early and long text streams.

Piper phonemizes a whole input before it speaks a word, and its first chunk costs time in
proportion to its length. So text is cut into sentences, long sentences into clauses (then at
word boundaries), and the very first piece is kept short (its first clause, or its first few
words) so the first audio is ready after a fraction of a sentence's compute.

Spans cover the text without gaps (whitespace between pieces goes with one of them), so
character alignment can be given for every character the client sent.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

# Closing quotes and brackets (straight and typographic), and dashes, as escapes.
_CLOSERS = "\"')\\]\u201d\u2019"
_SENTENCE_END = re.compile(rf"[.!?\u2026]+[{_CLOSERS}]*(?=\s)|\n\s*\n")
_CLAUSE_END = re.compile(rf"[,;:]+[{_CLOSERS}]*(?=\s)|\s[\u2013\u2014-]+(?=\s)")
_WORD = re.compile(r"\S+")
_ABBREVIATIONS = frozenset(
    [
        "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "e.g", "i.e", "no",
        "fig", "approx", "inc", "ltd", "co", "mt", "ave",
    ]
)  # fmt: skip
# Words a phrase often starts with: a good place to cut a sentence that has no comma.
_PHRASE_STARTERS = frozenset(
    [
        "and", "but", "or", "so", "because", "which", "that", "who", "when", "where", "while",
        "if", "than", "as", "to", "of", "in", "on", "at", "for", "with", "from", "over",
        "under", "into", "after", "before", "about", "through",
    ]
)  # fmt: skip


@dataclass(frozen=True)
class Span:
    start: int
    end: int


def _is_abbreviation(text: str, dot: int) -> bool:
    word_start = text.rfind(" ", 0, dot) + 1
    word = text[word_start:dot].lower().lstrip("(\"'")
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def _cuts(text: str, start: int, end: int, pattern: re.Pattern[str]) -> list[int]:
    """Positions just after each boundary found by ``pattern`` inside ``text[start:end]``."""
    cuts = []
    for match in pattern.finditer(text, start, end):
        if match.group().startswith(".") and _is_abbreviation(text, match.start()):
            continue
        cuts.append(match.end())
    return cuts


def _pieces(start: int, end: int, cuts: list[int]) -> list[Span]:
    bounds = [start, *(c for c in cuts if start < c < end), end]
    return [Span(a, b) for a, b in itertools.pairwise(bounds) if b > a]


def _words_cut(text: str, span: Span, max_chars: int) -> list[Span]:
    """Cut a span at word boundaries into pieces of at most ``max_chars`` (one word may exceed)."""
    out: list[Span] = []
    piece_start = span.start
    for word in _WORD.finditer(text, span.start, span.end):
        if word.end() - piece_start > max_chars and word.start() > piece_start:
            out.append(Span(piece_start, word.start()))
            piece_start = word.start()
    out.append(Span(piece_start, span.end))
    return out


def _group(text: str, spans: list[Span], max_chars: int) -> list[Span]:
    """Join neighbouring clauses while they fit; cut clauses that alone do not."""
    out: list[Span] = []
    for span in spans:
        if span.end - span.start > max_chars:
            out.extend(_words_cut(text, span, max_chars))
        elif out and span.end - out[-1].start <= max_chars:
            out[-1] = Span(out[-1].start, span.end)
        else:
            out.append(span)
    return out


def _shorten_first(text: str, span: Span, first_words: int) -> list[Span]:
    words = list(_WORD.finditer(text, span.start, span.end))
    if first_words <= 0 or len(words) <= first_words + 2:
        return [span]
    clause_cuts = _cuts(text, span.start, span.end, _CLAUSE_END)
    if clause_cuts:
        first_clause_words = sum(1 for w in words if w.end() <= clause_cuts[0])
        if 1 <= first_clause_words <= 2 * first_words:
            return _pieces(span.start, span.end, clause_cuts[:1])
    # No usable comma: cut before a word that starts a phrase, near the wanted length.
    cut_word = first_words
    # Never longer than asked (latency); shorter if that is where a phrase starts.
    for candidate in (first_words, first_words - 1, first_words - 2):
        word = words[candidate].group().lower().strip("\"'(") if candidate < len(words) else ""
        if 2 <= candidate < len(words) - 1 and word in _PHRASE_STARTERS:
            cut_word = candidate
            break
    return _pieces(span.start, span.end, [words[cut_word].start()])


def split_text(text: str, *, max_chars: int = 200, first_words: int = 4) -> list[Span]:
    """Spans of ``text`` to synthesize one after another, together covering all of it.

    ``max_chars`` bounds a piece (sentences longer than that are cut at clauses, then words);
    ``first_words`` bounds the first piece (0: no special first piece). Whitespace-only text
    gives no spans.
    """
    if not text.strip():
        return []
    sentences = _pieces(0, len(text), _cuts(text, 0, len(text), _SENTENCE_END))
    spans: list[Span] = []
    for sentence in sentences:
        if spans and not text[sentence.start : sentence.end].strip():
            # Whitespace between sentences belongs to the previous piece.
            spans[-1] = Span(spans[-1].start, sentence.end)
            continue
        if sentence.end - sentence.start > max_chars:
            clauses = _pieces(
                sentence.start, sentence.end, _cuts(text, sentence.start, sentence.end, _CLAUSE_END)
            )
            spans.extend(_group(text, clauses, max_chars))
        else:
            spans.append(sentence)
    spans = _shorten_first(text, spans[0], first_words) + spans[1:]
    return _merge_blank(text, spans)


def _merge_blank(text: str, spans: list[Span]) -> list[Span]:
    """Give a piece with no word (stray punctuation, whitespace) to its neighbour."""
    out: list[Span] = []
    for span in spans:
        if out and not (_has_word(text, span) and _has_word(text, out[-1])):
            out[-1] = Span(out[-1].start, span.end)
        else:
            out.append(span)
    return out


def _has_word(text: str, span: Span) -> bool:
    return any(ch.isalnum() for ch in text[span.start : span.end])


def complete_prefix(text: str, *, max_chars: int) -> int:
    """How much of text still arriving can be spoken now: the end of its last complete sentence
    or clause (a boundary followed by whitespace, so it cannot grow), else, once the text is
    longer than ``max_chars``, the start of its last word. 0 when nothing is ready yet."""
    ends = [m.end() for m in _SENTENCE_END.finditer(text) if not _is_abbreviation_end(text, m)]
    ends += [m.end() for m in _CLAUSE_END.finditer(text)]
    if ends:
        return max(ends)
    if len(text) > max_chars:
        words = list(_WORD.finditer(text))
        if len(words) > 1:
            return words[-1].start()
    return 0


def _is_abbreviation_end(text: str, match: re.Match[str]) -> bool:
    return match.group().startswith(".") and _is_abbreviation(text, match.start())
