"""Search snippets: a few words around a session's first match, matches marked ``[like this]``.

Computed here, from the stored text, the same way for both databases. The
engines' own (SQLite's ``snippet()``, PostgreSQL's ``ts_headline``) cost time
that grows with the square of the matches in one document, in a single step
no time limit can stop: a 0.9 MB prompt full of one word took 5.7 s. Here the
cost is one regular-expression scan of at most :data:`SCAN_CHARS` characters
per text, stopping at the first match.

Words are matched as both engines tokenize them: runs of letters and digits,
case folded, and (as SQLite's ``remove_diacritics``) a Latin letter matches its
accented forms. A match beyond :data:`SCAN_CHARS` leaves the snippet unmarked:
the text's first words.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable

from claude_sessions.model import text_query

SNIPPET_WORDS = 12  # words in a snippet, as SQLite's snippet() was asked for
WORDS_BEFORE = 3  # of them, before the first match
SCAN_CHARS = 500_000  # of each text, searched for the first match
_LOOK_CHARS = 400  # around a match, for the words of its window
_WORD = re.compile(r"[^\W_]+")
_NOT_WORD = r"[\W_]+"
_LATIN_RANGES = ((0x00C0, 0x024F), (0x1E00, 0x1EFF))


@functools.cache
def _accented() -> dict[str, str]:
    """Each Latin letter's accented forms (``e``: ``èéêë...``)."""
    forms: dict[str, list[str]] = {}
    for low, high in _LATIN_RANGES:
        for code in range(low, high + 1):
            char = chr(code)
            base = unicodedata.normalize("NFKD", char)[0].lower()
            if base != char.lower() and base.isascii() and base.isalpha():
                forms.setdefault(base, []).append(char)
    return {base: "".join(chars) for base, chars in forms.items()}


def _fold(word: str) -> str:
    """``word`` without its accents, lower case."""
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def _word_pattern(word: str) -> str:
    accented = _accented()
    pieces = []
    for letter in word:
        folded = _fold(letter)
        # The tokenizer folds Latin letters only: a kana's or another script's
        # marks (the voicing of ド) stay part of the letter.
        for char in folded if folded.isascii() else letter.lower():
            pieces.append(
                f"[{re.escape(char + accented[char])}]" if char in accented else re.escape(char)
            )
    return "".join(pieces)


def positive_terms(node: text_query.Node) -> list[text_query.Term]:
    """The terms whose matches a snippet marks (not those after NOT)."""
    if isinstance(node, text_query.Term):
        return [node]
    if isinstance(node, text_query.Without):
        return positive_terms(node.keep)
    return [term for part in node.parts for term in positive_terms(part)]


@functools.lru_cache(maxsize=64)
def match_pattern(node: text_query.Node) -> re.Pattern[str]:
    """A pattern matching any positive term of ``node``, word-bounded as tokens are."""
    choices = []
    for term in positive_terms(node):
        phrase = _NOT_WORD.join(_word_pattern(word) for word in term.words)
        ending = r"[^\W_]*" if term.prefix else r"(?![^\W_])"
        choices.append(f"(?<![^\\W_])(?:{phrase}){ending}")
    return re.compile("|".join(choices), re.IGNORECASE)


def _window_start(text: str, start: int) -> int:
    """Where a snippet starts: up to :data:`WORDS_BEFORE` words before ``start``."""
    lead = max(0, start - _LOOK_CHARS)
    words = [found.start() for found in _WORD.finditer(text, lead, start)]
    if lead > 0:
        words = words[1:]  # the first one may be cut
    begin = (words[-WORDS_BEFORE:] or [start])[0]
    return 0 if begin <= _LOOK_CHARS and _WORD.search(text, 0, begin) is None else begin


def _window_end(text: str, begin: int) -> int:
    """Where a snippet of :data:`SNIPPET_WORDS` words from ``begin`` ends (the text's
    end when no word follows them)."""
    end = begin
    for count, found in enumerate(_WORD.finditer(text, begin, begin + _LOOK_CHARS * 4), 1):
        end = found.end()
        if count == SNIPPET_WORDS:
            break
    if len(text) - end <= _LOOK_CHARS and _WORD.search(text, end) is None:
        return len(text)
    return end


def _marked(text: str, pattern: re.Pattern[str], begin: int, end: int) -> str:
    pieces, at = [], begin
    for found in pattern.finditer(text, begin, end):
        if found.end() == found.start():
            continue
        pieces += [text[at : found.start()], "[", found.group(), "]"]
        at = found.end()
    pieces.append(text[at:end])
    shown = " ".join("".join(pieces).split())
    return ("\u2026" if begin > 0 else "") + shown + ("\u2026" if end < len(text) else "")


def snippet(texts: Iterable[str | None], node: text_query.Node) -> str | None:
    """The snippet of the first text (of ``texts``, in order) holding a match of ``node``;
    else the first words of the first text that has any; ``None`` when all are empty."""
    pattern = match_pattern(node)
    present = [text for text in texts if text and text.strip()]
    for text in present:
        found = pattern.search(text, 0, SCAN_CHARS)
        if found is not None:
            begin = _window_start(text, found.start())
            end = max(_window_end(text, begin), found.end())
            return _marked(text, pattern, begin, end)
    if not present:
        return None
    return _marked(present[0], pattern, 0, _window_end(present[0], 0))
