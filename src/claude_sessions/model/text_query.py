"""The full-text query language, parsed once for every database.

Syntax: words (all must occur), ``"a phrase"``, ``prefix*``, the operators
``AND``, ``OR`` and ``NOT`` (upper case, as in SQLite's FTS5; ``NOT`` is
binary: ``auth NOT oauth``), and parentheses. Anything else is text: a word
such as ``claude-sonnet`` or ``foo:bar`` searches its pieces as a phrase, so
no input reaches the database engine as syntax.

The parse is also where runaway queries are refused before they run: terms
are deduplicated (``the the the`` is one term), and a query may hold at most
:data:`MAX_TERMS` distinct terms, :data:`MAX_WORDS` words in all and
:data:`MAX_PREFIXES` prefix terms of at least :data:`MIN_PREFIX_CHARS`
characters each (a one-letter prefix expands to most of the index).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from claude_sessions.model.exceptions import InvalidQueryError

MAX_TERMS = 16
MAX_WORDS = 64
MAX_PREFIXES = 3
MIN_PREFIX_CHARS = 3
MAX_QUERY_CHARS = 2000

_OPERATORS = ("AND", "OR", "NOT")
_TOKEN_RE = re.compile(r'\s*(?:(")|(\()|(\))|([^\s"()]+))')
_WORD_RE = re.compile(r"\w+")


@dataclass(frozen=True)
class Term:
    """A word or a phrase (its words in a row); ``prefix``: the last word is a prefix."""

    words: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True)
class AllOf:
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class AnyOf:
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Without:
    keep: Node
    drop: Node


Node = Term | AllOf | AnyOf | Without


def _fail(text: str, why: str) -> InvalidQueryError:
    return InvalidQueryError(f"invalid full-text query {text!r}: {why}")


def _words(text: str) -> tuple[str, ...]:
    # Both engines fold case; folding here too lets "The the THE" dedupe to one term.
    return tuple(word.lower() for word in _WORD_RE.findall(text))


class _Parser:
    """Recursive descent: OR binds loosest, then AND (also implicit), then NOT."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[tuple[str, str]] = []
        self.pos = 0

    def tokenize(self) -> None:
        text, index = self.text, 0
        while index < len(text):
            match = _TOKEN_RE.match(text, index)
            if match is None or match.end() == index:
                break  # only white space is left
            index = match.end()
            quote, opening, closing, word = match.groups()
            if quote:
                end = text.find('"', index)
                while end != -1 and text.startswith('""', end):
                    end = text.find('"', end + 2)
                if end == -1:
                    raise _fail(text, "a quote is not closed")
                phrase = text[index:end].replace('""', '"')
                index = end + 1
                prefix = text.startswith("*", index)
                if prefix:
                    index += 1
                self.tokens.append(("phrase*" if prefix else "phrase", phrase))
            elif opening:
                self.tokens.append(("(", "("))
            elif closing:
                self.tokens.append((")", ")"))
            elif word in _OPERATORS:
                self.tokens.append((word, word))
            else:
                self.tokens.append(("word*" if word.endswith("*") else "word", word.rstrip("*")))

    def peek(self) -> str | None:
        return self.tokens[self.pos][0] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def parse(self) -> Node | None:
        self.tokenize()
        if not self.tokens:
            return None
        node = self.any_of()
        if self.pos != len(self.tokens):
            raise _fail(self.text, f"unexpected {self.tokens[self.pos][1]!r}")
        return node

    def any_of(self) -> Node | None:
        parts = [self.all_of()]
        while self.peek() == "OR":
            self.take()
            parts.append(self.all_of())
        return _combine(AnyOf, parts)

    def all_of(self) -> Node | None:
        parts = [self.without()]
        while self.peek() not in (None, "OR", ")"):
            if self.peek() == "AND":
                self.take()
            parts.append(self.without())
        return _combine(AllOf, parts)

    def without(self) -> Node | None:
        node = self.primary()
        while self.peek() == "NOT":
            self.take()
            drop = self.primary()
            if node is None or drop is None:
                raise _fail(self.text, "NOT needs a term on each side")
            node = Without(node, drop)
        return node

    def primary(self) -> Node | None:
        kind = self.peek()
        if kind is None or kind in _OPERATORS:
            raise _fail(self.text, "an operator needs a term on each side")
        if kind == ")":
            raise _fail(self.text, "unbalanced parentheses")
        if kind == "(":
            self.take()
            if self.peek() == ")":
                raise _fail(self.text, "empty parentheses")
            node = self.any_of()
            if self.peek() != ")":
                raise _fail(self.text, "unbalanced parentheses")
            self.take()
            return node
        kind, text = self.take()
        words = _words(text)
        return Term(words, prefix=kind.endswith("*")) if words else None


def _combine(kind: type[AllOf] | type[AnyOf], parts: list[Node | None]) -> Node | None:
    unique: list[Node] = []
    for part in parts:
        if part is not None and part not in unique:
            unique.append(part)
    if not unique:
        return None
    return unique[0] if len(unique) == 1 else kind(tuple(unique))


def terms(node: Node) -> list[Term]:
    """The terms of ``node``, left to right."""
    if isinstance(node, Term):
        return [node]
    if isinstance(node, Without):
        return terms(node.keep) + terms(node.drop)
    return [term for part in node.parts for term in terms(part)]


def parse(text: str) -> Node:
    """The query tree of ``text``; :class:`InvalidQueryError` when it is empty,
    malformed or too costly to run (see the module docstring)."""
    if len(text) > MAX_QUERY_CHARS:
        raise _fail(text[:40] + "\u2026", f"longer than {MAX_QUERY_CHARS} characters")
    node = _Parser(text).parse()
    if node is None:
        raise _fail(text, "nothing to search for (no letters or digits)")
    found = terms(node)
    if len(set(found)) > MAX_TERMS:
        raise _fail(text, f"more than {MAX_TERMS} different terms")
    if sum(len(t.words) for t in found) > MAX_WORDS:
        raise _fail(text, f"more than {MAX_WORDS} words")
    prefixes = [t for t in found if t.prefix]
    if len(prefixes) > MAX_PREFIXES:
        raise _fail(text, f"more than {MAX_PREFIXES} prefix terms (word*)")
    for term in prefixes:
        if len(term.words[-1]) < MIN_PREFIX_CHARS:
            raise _fail(text, f"a prefix needs at least {MIN_PREFIX_CHARS} characters before the *")
    return node
