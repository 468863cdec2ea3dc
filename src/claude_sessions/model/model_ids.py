"""Model ids parsed into a family and a version.

Why not regular expressions over the whole id: ``claude-opus-4-20250514`` is
Opus 4, but a pattern such as ``opus-4-(?:[5-9]|\\d\\d)`` meant for Opus 4.5
also matches the "20" of its date. Here an id is first normalized (provider
prefixes and suffixes removed), date parts are dropped (a date is never a
version), and what is left must be exactly a family and a version, in either
spelling the API has used (see :mod:`claude_sessions.model.pricing`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class ModelId:
    """A model family and version: ``ModelId("opus", 4, 1)`` is Opus 4.1."""

    family: str
    major: int
    minor: int = 0

    @property
    def version(self) -> str:
        return str(self.major) if self.minor == 0 else f"{self.major}.{self.minor}"

    @property
    def key(self) -> str:
        """``opus 4.1``: how the table and the price file name it."""
        return f"{self.family} {self.version}"

    def __str__(self) -> str:
        return self.key


_SUFFIX_RE = re.compile(r"\[[^\]]*\]$")  # the CLI's [1m]
_PROVIDER_RE = re.compile(r"^(?:[a-z]{2,8}\.)?anthropic\.")  # Bedrock (us.|eu.|apac.|global.)
_BEDROCK_VERSION_RE = re.compile(r"-v\d+(?::\d+)?$|:\d+$")  # -v1:0, -v2, :0
_DATE_RE = re.compile(r"^(?:19|20)\d{6}$")  # 20250514
_NUMBER_RE = re.compile(r"^\d{1,2}$")
_DOTTED_RE = re.compile(r"^(\d{1,2})\.(\d{1,2})$")
_WORD_RE = re.compile(r"^[a-z]+$")
_KEY_RE = re.compile(r"^([a-z]+)[\s_-]+(\d{1,2})(?:[.-](\d{1,2}))?$")


def _version(tokens: list[str]) -> tuple[int, int] | None:
    """``["4"]``, ``["4", "1"]`` or ``["4.1"]`` as (major, minor)."""
    if len(tokens) == 1:
        dotted = _DOTTED_RE.match(tokens[0])
        if dotted:
            return int(dotted.group(1)), int(dotted.group(2))
        if _NUMBER_RE.match(tokens[0]):
            return int(tokens[0]), 0
        return None
    if len(tokens) == 2 and all(_NUMBER_RE.match(t) for t in tokens):
        return int(tokens[0]), int(tokens[1])
    return None


def normalize_model(model: str) -> str:
    """``model`` lowercased, without provider prefix, ``[1m]``, Bedrock or Vertex suffix."""
    text = model.strip().lower()
    while _SUFFIX_RE.search(text):
        text = _SUFFIX_RE.sub("", text).strip()
    text = text.rsplit("/", 1)[-1]  # anthropic/claude-..., an inference-profile ARN
    text = _PROVIDER_RE.sub("", text)
    text = text.split("@", 1)[0]  # Vertex: claude-sonnet-4@20250514
    return _BEDROCK_VERSION_RE.sub("", text)


def parse_model(model: object) -> ModelId | None:
    """The family and version of a model id, or ``None`` when it is not one.

    >>> parse_model("claude-opus-4-20250514")
    ModelId(family='opus', major=4, minor=0)
    >>> parse_model("us.anthropic.claude-3-5-sonnet-20241022-v2:0").key
    'sonnet 3.5'
    """
    if not isinstance(model, str) or not model:
        return None
    text = normalize_model(model)
    if not text.startswith("claude-"):
        return None
    tokens = [t for t in text[len("claude-") :].split("-") if t]
    tokens = [t for t in tokens if not _DATE_RE.match(t) and t != "latest"]
    if not tokens:
        return None
    if _WORD_RE.match(tokens[0]):
        # claude-<family>-<version>: claude-opus-4-1, claude-instant-1.2
        version = _version(tokens[1:])
        return ModelId(tokens[0], *version) if version else None
    if _WORD_RE.match(tokens[-1]):
        # claude-<version>-<family>: claude-3-5-sonnet
        version = _version(tokens[:-1])
        return ModelId(tokens[-1], *version) if version else None
    # claude-2.1, claude-2.0: the first models had no family name.
    version = _version(tokens)
    return ModelId("claude", *version) if version else None


def parse_price_key(key: str) -> ModelId | None:
    """A price-file key: a model id, or ``family version`` (``opus 4.1``, ``opus-4-1``)."""
    parsed = parse_model(key)
    if parsed:
        return parsed
    match = _KEY_RE.match(key.strip().lower())
    if match:
        return ModelId(match.group(1), int(match.group(2)), int(match.group(3) or 0))
    return None


__all__ = ["ModelId", "normalize_model", "parse_model", "parse_price_key"]
