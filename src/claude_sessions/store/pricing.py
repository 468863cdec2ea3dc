"""Model prices, used only to estimate a cost when no result message reports one.

The CLI's result messages carry ``total_cost_usd``, and that figure always
wins. Transcripts the CLI writes to disk (and entries mirrored through the
official ``SessionStore`` protocol) have no result messages, only per-message
``usage`` token counts; for those the store estimates the cost with this table.

Prices are Anthropic's published list prices in USD per million tokens
(standard tier, 5-minute cache writes), as of late 2025. Update the table when
prices change; an unknown model costs 0.0 rather than a guess.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_MAX_TOKENS = 10**15


@dataclass(frozen=True)
class Price:
    """USD per million tokens."""

    input: float
    output: float
    cache_write: float
    cache_read: float


# First match wins: the more specific patterns come first.
PRICES: tuple[tuple[re.Pattern[str], Price], ...] = (
    (re.compile(r"opus-4-(?:[5-9]|\d\d)|opus-(?:[5-9])"), Price(5.0, 25.0, 6.25, 0.50)),
    (re.compile(r"opus"), Price(15.0, 75.0, 18.75, 1.50)),
    (re.compile(r"sonnet"), Price(3.0, 15.0, 3.75, 0.30)),
    (re.compile(r"haiku-4|haiku-(?:[5-9])"), Price(1.0, 5.0, 1.25, 0.10)),
    (re.compile(r"3-5-haiku|haiku-3-5"), Price(0.80, 4.0, 1.0, 0.08)),
    (re.compile(r"haiku"), Price(0.25, 1.25, 0.30, 0.03)),
)


def price_for(model: str | None) -> Price | None:
    """The price of ``model`` (a full id such as ``claude-sonnet-4-5-20250929``)."""
    if not model:
        return None
    lowered = model.lower()
    for pattern, price in PRICES:
        if pattern.search(lowered):
            return price
    return None


def _tokens(usage: Mapping[str, Any], key: str) -> int:
    """A token count; anything but a plausible number >= 0 (``1e400``, NaN, text) counts 0."""
    value = usage.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    if not 0 <= value <= _MAX_TOKENS:  # also false for NaN
        return 0
    return int(value)


def token_counts(usage: Mapping[str, Any]) -> list[int]:
    """``[input, output]`` tokens of one API message's ``usage``; input counts cache
    writes and reads too, since the model read them all."""
    prompt = sum(
        _tokens(usage, key)
        for key in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
    )
    return [prompt, _tokens(usage, "output_tokens")]


def estimate_cost(model: str | None, usage: Mapping[str, Any]) -> float:
    """USD for one API message's ``usage`` (input, output, cache write and read tokens)."""
    price = price_for(model)
    if price is None:
        return 0.0
    return (
        _tokens(usage, "input_tokens") * price.input
        + _tokens(usage, "output_tokens") * price.output
        + _tokens(usage, "cache_creation_input_tokens") * price.cache_write
        + _tokens(usage, "cache_read_input_tokens") * price.cache_read
    ) / 1_000_000
