"""Secrets in text and in transcript entries: which credential formats, and where.

Pure functions over the rule table of :mod:`.secret_rules` (each rule names the
public rule set it comes from). :func:`find_secrets` finds them in one string;
:func:`entry_findings` in every string of one transcript entry, with the place it
is in (a prompt, a reply, a tool's input or result, a subagent's transcript) and
the JSON path to the string. A finding's offsets cover the secret's value only,
so redaction can replace the value and keep the text around it.

The command line imports this module only when it scans: it compiles every rule.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from claude_sessions.model.secret_rules import (
    GENERIC_IN_JSON,
    GENERIC_NAME,
    GENERIC_NAME_LOWER,
    GENERIC_VALUE,
    JSON_STRING_KEY,
    RULES,
    Rule,
)

Place = Literal["prompt", "reply", "tool input", "tool result", "subagent"]
PLACES: tuple[Place, ...] = ("prompt", "reply", "tool input", "tool result", "subagent")
JsonPath = tuple[str | int, ...]

GENERIC_RULE = "generic-secret-assignment"
# Bits per character a value assigned to a secret's name must reach (gitleaks' 3.5
# for its generic rule, checked on the decoys of tests/test_secrets_detection.py):
# code such as ``compute_tokens`` (3.38) and chosen passwords such as ``Password123!``
# (3.42) stay below; random letters and digits pass at 16 characters 98% of the
# time and always at 24, but at 12 only a third of the time.
GENERIC_MIN_ENTROPY = 3.5
_IMAGE_KEYS = frozenset({"data"})  # a base64 image's payload: no text to scan
_HEX_OR_UUID = re.compile(
    r"^(?:[0-9a-fA-F]{32,128}|[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12})$"
)
_DOTTED_NAME = re.compile(r"^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+$")
# Some of gitleaks' stopwords for its generic rule: a value holding one is an example.
_STOPWORDS = ("example", "xxxxxx", "000000", "aaaaaa", "fake", "sample")
# What redaction (model/redaction.py) leaves where a secret was: a placeholder, not a
# secret, though a URL's rule would take it for a password.
_REDACTED = re.compile(r"\[REDACTED:[\w.-]+\]")
_VARIABLE = re.compile(r"^(?:\$\{?[A-Za-z_]\w*\}?|%[A-Za-z_]\w*%|\{\{.*\}\}|<[^>]*>)$")


_KEYWORDS: dict[str, tuple[int, ...]] = {}  # a keyword: the rules (by index) it lets run
for _index, _rule in enumerate(RULES):
    for _word in _rule.keywords:
        _KEYWORDS[_word] = (*_KEYWORDS.get(_word, ()), _index)


@dataclass(frozen=True)
class Finding:
    rule: str  # e.g. "github-pat", "aws-access-key-id", "generic-secret-assignment"
    confidence: str  # "high" | "medium"
    start: int  # offsets of the secret's value in the text scanned
    end: int


def entropy(value: str) -> float:
    """Shannon entropy in bits per character (what gitleaks' thresholds measure)."""
    if not value:
        return 0.0
    size = len(value)
    return -sum(n / size * math.log2(n / size) for n in Counter(value).values())


def masked(value: str) -> str:
    """What may be shown of a secret: its first 4 characters and its length."""
    return f"{value[:4]}… ({len(value)} chars)"


def find_secrets(text: str) -> list[Finding]:
    """The secrets in ``text``: non-overlapping, sorted by start. Where two rules
    match the same characters, the rule for a known format wins over a name's."""
    return _find(text, _KEYWORDS)


def _find(text: str, keywords: Iterable[str]) -> list[Finding]:
    """:func:`find_secrets` trying only the rules of ``keywords`` (those the entry
    holding ``text`` holds: the others cannot match)."""
    lowered = text.lower()
    found: list[Finding] = []
    # A rule runs only on text holding one of its keywords: most text holds none.
    wanted = {index for word in keywords if word in lowered for index in _KEYWORDS[word]}
    for index in sorted(wanted):
        found.extend(_rule_findings(RULES[index], text))
    found.extend(_generic_findings(text, lowered))
    return [f for f in _without_overlaps(found) if not _REDACTED.fullmatch(text, f.start, f.end)]


def _rule_findings(rule: Rule, text: str) -> Iterator[Finding]:
    for match in rule.pattern.finditer(text):
        value = match.group(1)
        if rule.ignore is not None and rule.ignore.search(value):
            continue
        if rule.min_entropy and entropy(value) < rule.min_entropy:
            continue
        yield Finding(rule.name, rule.confidence, match.start(1), match.end(1))


def _generic_findings(text: str, lowered: str) -> Iterator[Finding]:
    # The names are searched in the lowered text (many times faster than ignoring
    # case) unless lowering changed a length, and so the offsets.
    names = GENERIC_NAME if len(lowered) != len(text) else GENERIC_NAME_LOWER
    for name in names.finditer(lowered if names is GENERIC_NAME_LOWER else text):
        match = GENERIC_VALUE.match(text, name.end())
        if match is not None and looks_random(match.group(1)):
            yield Finding(GENERIC_RULE, "medium", match.start(1), match.end(1))


def looks_random(value: str) -> bool:
    """Whether a value assigned to a secret's name looks like a secret: long and
    random enough, with letters and digits, and not a hash, a uuid, a code
    identifier or a placeholder (``$VAR``, ``{{ var }}``, ``<token>``)."""
    if not 12 <= len(value) <= 150 or value.lower() in ("true", "false", "null", "none"):
        return False
    if _HEX_OR_UUID.match(value) or _DOTTED_NAME.match(value) or _VARIABLE.match(value):
        return False
    if any(word in value.lower() for word in _STOPWORDS):
        return False
    has_letter = any(char.isalpha() for char in value)
    has_digit = any(char.isdigit() for char in value)
    return has_letter and has_digit and entropy(value) >= GENERIC_MIN_ENTROPY


def _without_overlaps(found: list[Finding]) -> list[Finding]:
    """The earliest-listed rule's finding where findings overlap (the table lists
    known formats before the generic rule); then by start."""
    kept: list[Finding] = []
    for finding in found:
        if all(finding.end <= other.start or other.end <= finding.start for other in kept):
            kept.append(finding)
    return sorted(kept, key=lambda finding: finding.start)


def entry_findings(
    entry: Mapping[str, Any], *, subagent: bool = False
) -> list[tuple[Place, JsonPath, Finding]]:
    """The secrets in every string of one transcript entry, with where each is: the
    place and the JSON path to the string (the finding's offsets are in that string).

    ``subagent``: the entry is from a subagent's transcript (``<session>/subagents/``);
    a sidechain entry (``isSidechain``, a subagent's in the main transcript) is too.
    A value under a key that names a secret (``{"password": ...}``) is checked as if
    assigned to that name."""
    keywords, generic = _what_may_match(entry)
    if not keywords and not generic:
        return []
    default = _entry_place(entry, subagent)
    results: list[tuple[Place, JsonPath, Finding]] = []
    for place, path, text, named in _strings(entry, (), default):
        findings = _find(text, keywords)
        if not findings and named and looks_random(text.strip()):
            start = len(text) - len(text.lstrip())
            findings = [Finding(GENERIC_RULE, "medium", start, start + len(text.strip()))]
        results.extend((place, path, finding) for finding in findings)
    return results


def _what_may_match(entry: Mapping[str, Any]) -> tuple[Iterable[str], bool]:
    """The rules' keywords the entry's JSON text holds, and whether the generic rule
    may match in it. A keyword has no character JSON escapes, so one in any of the
    entry's strings is in its JSON text too. Looked for once per entry, not once per
    string (an entry has dozens of small ones); most entries hold nothing."""
    try:
        text = orjson.dumps(entry).decode()
    except TypeError:  # integers past 64 bits, lone surrogates: try everything
        return _KEYWORDS, True
    blob = text.lower()
    keywords = [word for word in _KEYWORDS if word in blob]
    # Lowering changed a length: the lowered names' offsets are not the text's.
    generic = len(blob) != len(text) or GENERIC_IN_JSON.search(blob) is not None
    return keywords, generic or _keys_name_secrets(blob)


def _keys_name_secrets(blob: str) -> bool:
    """Whether a key naming a secret holds a string in the entry's (lowered) JSON text."""
    if GENERIC_NAME_LOWER.search(blob) is None:
        return False
    return any(GENERIC_NAME_LOWER.search(key[1]) for key in JSON_STRING_KEY.finditer(blob))


def _entry_place(entry: Mapping[str, Any], subagent: bool) -> Place:
    if subagent or entry.get("isSidechain") is True:
        return "subagent"
    kind = entry.get("type")
    return "reply" if kind in ("assistant", "result") else "prompt"


def _strings(
    value: Any, path: JsonPath, place: Place, named: bool = False
) -> Iterator[tuple[Place, JsonPath, str, bool]]:
    """Every string under ``value`` with its place, path and whether its key names a
    secret; a content block or a ``toolUseResult`` sets the place below it."""
    if isinstance(value, str):
        if value:
            yield place, path, value, named
    elif isinstance(value, Mapping):
        inner = _block_place(value, place)
        image = value.get("type") == "base64"
        for key, child in value.items():
            if image and key in _IMAGE_KEYS:
                continue
            child_place = "tool result" if key == "toolUseResult" and place != "subagent" else inner
            secret_name = _names_secret(key)
            yield from _strings(child, (*path, key), child_place, secret_name)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _strings(child, (*path, index), place)


def _names_secret(key: str) -> bool:
    lowered = key.lower()  # as the names are found in text (see _generic_findings)
    if len(lowered) != len(key):
        return GENERIC_NAME.search(key) is not None
    return GENERIC_NAME_LOWER.search(lowered) is not None


def _block_place(block: Mapping[str, Any], place: Place) -> Place:
    if place == "subagent":
        return place
    kind = block.get("type")
    if kind == "tool_use" or kind == "server_tool_use":
        return "tool input"
    if kind == "tool_result" or (isinstance(kind, str) and kind.endswith("_tool_result")):
        return "tool result"
    return place
