"""Model prices users can audit: model ids parsed into (family, version), a
dated and sourced price table, and the cost of one API message's ``usage``.

Why not regular expressions over the id: ``claude-opus-4-20250514`` is Opus 4
($15/$75 per million tokens), but a pattern such as ``opus-4-(?:[5-9]|\\d\\d)``
meant for Opus 4.5 also matches the "20" of its date. Here an id is first
parsed (:func:`parse_model`): provider prefixes and suffixes are removed, date
parts are dropped (a date is never a version), and what is left must be exactly
a family and a version, in either spelling the API has used:

- ``claude-<family>-<major>[-<minor>]`` (``claude-opus-4-1-20250805``,
  ``claude-sonnet-4-5``, ``claude-haiku-4-5-20251001``, ``claude-opus-5``);
- ``claude-<major>[-<minor>]-<family>`` (``claude-3-5-sonnet-20241022``,
  ``claude-3-opus-latest``);
- provider forms: Bedrock ``us.anthropic.claude-sonnet-4-20250514-v1:0`` and
  ``anthropic.claude-3-5-sonnet-20240620-v1:0``, Vertex
  ``claude-sonnet-4@20250514``, routed ``anthropic/claude-sonnet-4.5``, and the
  CLI's ``[1m]`` suffix.

Anything else (an unknown trailing word, no version) does not parse, and an
unparsed or unlisted model is UNPRICED: :meth:`PriceTable.cost` returns
``None``, never a silent 0.0.

Cost of one API message (:meth:`Price.cost`), USD::

    (input            x input price
     + output         x output price
     + 5m cache write x 5m write price     \\  cache_creation_input_tokens, split by
     + 1h cache write x 1h write price     /  usage.cache_creation.ephemeral_{5m,1h}_input_tokens
                                              (no split given: all 5m)
     + cache read     x cache read price) / 1,000,000
    x 1.1 when usage.inference_geo is "us" (US-only inference)
    + server_tool_use.web_search_requests x web search price (per request)

Long context: a model with a ``long_context`` entry bills EVERY token of a
request (output and cache included) at the long-context rates when that one
request's prompt, input + cache writes + cache reads, exceeds the threshold
(Sonnet 4 and 4.5 with the 1M-context beta: above 200,000 tokens; Haiku 5.5:
above 100,000). It is decided per request, never on session totals.

Hostile counts never raise: a count that is not a number (a string, a bool,
``None``), negative, not finite (``1e400`` parses as infinity, NaN) or above
2**53 counts as 0; a fractional count is rounded down.

Users extend or override the table with a JSON or TOML file named by
``$CLAUDE_SESSIONS_PRICES`` (see :func:`load_price_file`); a bad file raises
:class:`~claude_sessions.model.exceptions.PriceTableError`.
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from claude_sessions.model.exceptions import PriceTableError
from claude_sessions.model.model_ids import ModelId, normalize_model, parse_model, parse_price_key

PRICES_ENV_VAR = "CLAUDE_SESSIONS_PRICES"

#: Where the built-in figures come from, and when they were checked.
SOURCE_URL = "https://platform.claude.com/docs/en/about-claude/pricing"
MODEL_PAGE_URL = "https://platform.claude.com/docs/en/models/{slug}/overview"
CHECKED = "2026-11-25"
#: The second source: the model catalog baked into the Claude Code CLI that
#: claude-agent-sdk bundles (``pricing_tiers`` in the binary), used where the
#: pages disagree with a later change or do not list a model yet.
CLI_CATALOG = "model catalog of Claude Code 2.1.332 (bundled in claude-agent-sdk 0.2.189)"

#: Standard prompt-caching multipliers of the input price (pricing page).
CACHE_WRITE_5M_FACTOR = 1.25
CACHE_WRITE_1H_FACTOR = 2.0
CACHE_READ_FACTOR = 0.1
#: USD per web search request ($10 per 1,000 searches).
WEB_SEARCH_PRICE = 0.01
#: US-only inference (``usage.inference_geo == "us"``) costs 1.1x on every token.
US_GEO_MULTIPLIER = 1.1
#: Counts above this are not plausible for one request and count as 0.
MAX_COUNT = 2**53

ORIGIN_BUILT_IN = "built-in"
ORIGIN_USER = "user"


# ------------------------------------------------------------------------ usage


def _count(value: Any) -> int:
    if type(value) is int:  # nearly always: the rest of the checks only for odd values
        return value if 0 <= value <= MAX_COUNT else 0
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    if isinstance(value, float):
        if not math.isfinite(value):
            return 0
        value = math.floor(value)
    return int(value) if 0 <= value <= MAX_COUNT else 0


def _mapping(value: Any) -> Mapping[str, Any]:
    # A JSON object is a dict: the ABC check is for other mappings only.
    return value if type(value) is dict or isinstance(value, Mapping) else _EMPTY


_EMPTY: Mapping[str, Any] = {}


class UsageCounts(NamedTuple):
    """The billable counts of one API message's ``usage``, sanitised (a tuple: an
    import makes one per request)."""

    input: int = 0
    output: int = 0
    cache_write_5m: int = 0
    cache_write_1h: int = 0
    cache_read: int = 0
    web_search_requests: int = 0
    inference_geo: str | None = None

    @property
    def cache_write(self) -> int:
        return self.cache_write_5m + self.cache_write_1h

    @property
    def prompt(self) -> int:
        """Everything the model read: input, cache writes and cache reads."""
        return self.input + self.cache_write + self.cache_read


def usage_counts(usage: Any) -> UsageCounts:
    """:class:`UsageCounts` of a ``usage`` mapping (anything else counts as empty).

    ``cache_creation_input_tokens`` is split into 5-minute and 1-hour writes by
    ``cache_creation.ephemeral_1h_input_tokens`` (capped at the total; the rest
    is 5-minute); without that breakdown it is all 5-minute. When only the
    breakdown is present, its sum is the total.
    """
    data = _mapping(usage)
    split = data.get("cache_creation")
    if split is None:
        five = hour = 0
    else:
        split = _mapping(split)
        five = _count(split.get("ephemeral_5m_input_tokens"))
        hour = _count(split.get("ephemeral_1h_input_tokens"))
    total = _count(data.get("cache_creation_input_tokens")) or five + hour
    hour = min(hour, total)
    geo = data.get("inference_geo")
    tools = data.get("server_tool_use")
    return UsageCounts(
        _count(data.get("input_tokens")),
        _count(data.get("output_tokens")),
        total - hour,
        hour,
        _count(data.get("cache_read_input_tokens")),
        0 if tools is None else _count(_mapping(tools).get("web_search_requests")),
        geo if type(geo) is str or isinstance(geo, str) else None,
    )


def token_counts(usage: Any) -> tuple[int, int]:
    """``(input, output)`` tokens of one API message's ``usage``; input counts
    cache writes and cache reads too, since the model read them all."""
    counts = usage_counts(usage)
    return counts.prompt, counts.output


# ----------------------------------------------------------------------- prices


@dataclass(frozen=True)
class Rates:
    """USD per million tokens."""

    input: float
    output: float
    cache_write_5m: float
    cache_write_1h: float
    cache_read: float

    def tokens_cost(self, counts: UsageCounts) -> float:
        return (
            counts.input * self.input
            + counts.output * self.output
            + counts.cache_write_5m * self.cache_write_5m
            + counts.cache_write_1h * self.cache_write_1h
            + counts.cache_read * self.cache_read
        ) / 1_000_000


@dataclass(frozen=True)
class LongContext:
    """Rates for a request whose prompt (input + cache writes + reads) exceeds ``above``."""

    above: int
    rates: Rates


@dataclass(frozen=True)
class Price:
    """The price of one model: USD per million tokens, web search per request."""

    input: float
    output: float
    cache_write_5m: float
    cache_write_1h: float
    cache_read: float
    web_search: float = WEB_SEARCH_PRICE
    long_context: LongContext | None = None
    source: str = ""
    origin: str = ORIGIN_BUILT_IN

    @cached_property
    def rates(self) -> Rates:
        return Rates(
            self.input, self.output, self.cache_write_5m, self.cache_write_1h, self.cache_read
        )

    def rates_for(self, counts: UsageCounts) -> Rates:
        """The long-context rates when this request's prompt is past the threshold."""
        if self.long_context is not None and counts.prompt > self.long_context.above:
            return self.long_context.rates
        return self.rates

    def cost(self, usage: Any) -> float:
        """USD for one API message's ``usage`` (see the module docstring)."""
        counts = usage if isinstance(usage, UsageCounts) else usage_counts(usage)
        tokens = self.rates_for(counts).tokens_cost(counts)
        if counts.inference_geo == "us":
            tokens *= US_GEO_MULTIPLIER
        return tokens + counts.web_search_requests * self.web_search

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "input": self.input,
            "output": self.output,
            "cache_write_5m": self.cache_write_5m,
            "cache_write_1h": self.cache_write_1h,
            "cache_read": self.cache_read,
            "web_search": self.web_search,
            "long_context": None,
            "source": self.source,
            "origin": self.origin,
        }
        if self.long_context is not None:
            rates = self.long_context.rates
            data["long_context"] = {
                "above_prompt_tokens": self.long_context.above,
                "input": rates.input,
                "output": rates.output,
                "cache_write_5m": rates.cache_write_5m,
                "cache_write_1h": rates.cache_write_1h,
                "cache_read": rates.cache_read,
            }
        return data


def standard_price(
    input: float,  # noqa: A002  (the pricing page's column name)
    output: float,
    *,
    cache_write_5m: float | None = None,
    cache_write_1h: float | None = None,
    cache_read: float | None = None,
    **extra: Any,
) -> Price:
    """A :class:`Price` whose missing cache prices follow the standard multipliers
    (5m write 1.25x input, 1h write 2x, read 0.1x)."""

    def derived(value: float | None, factor: float) -> float:
        # rounded so that 7 x 0.1 reads 0.7, not 0.7000000000000001
        return round(input * factor, 10) if value is None else value

    return Price(
        input=input,
        output=output,
        cache_write_5m=derived(cache_write_5m, CACHE_WRITE_5M_FACTOR),
        cache_write_1h=derived(cache_write_1h, CACHE_WRITE_1H_FACTOR),
        cache_read=derived(cache_read, CACHE_READ_FACTOR),
        **extra,
    )


# ------------------------------------------------------------- built-in table

_PAGE = f"pricing page ({SOURCE_URL}), checked {CHECKED}"


def _model_page(slug: str) -> str:
    return f"model page ({MODEL_PAGE_URL.format(slug=slug)}), checked {CHECKED}"


def _row(i: float, w5: float, w1: float, r: float, o: float, source: str, **extra: Any) -> Price:
    """A row in the pricing page's column order: input, 5m write, 1h write, read, output."""
    return Price(i, o, w5, w1, r, source=source, **extra)


#: Where the prices of retired models come from: Anthropic's own words at the time.
DEPRECATIONS_URL = "https://platform.claude.com/docs/en/about-claude/model-deprecations"
_CLAUDE_3_PRICE = "launch price (https://www.anthropic.com/news/claude-3-family)"
_CLAUDE_2_PRICE = (
    "API list price after the price update announced with Claude 2.1 "
    "(https://www.anthropic.com/news/claude-2-1)"
)
_CROSS_CHECK = (
    "cross-checked with LangChain's Anthropic price table "
    "(https://reference.langchain.com/python/langchain-community/callbacks/"
    "bedrock_anthropic_callback/MODEL_COST_PER_1K_INPUT_TOKENS)"
)


def _retired(price: str, retired_on: str) -> str:
    return f"{price}; retired {retired_on} ({DEPRECATIONS_URL}); {_CROSS_CHECK}"


# Sonnet 4 and 4.5 with the 1M-context beta: above 200K prompt tokens, input
# $6 and output $22.50 (pricing page, "Long context pricing"); the cache
# prices there follow the standard multipliers of the $6 input price.
_SONNET_LONG_CONTEXT = LongContext(200_000, Rates(6.0, 22.5, 7.5, 12.0, 0.6))
# Haiku 5.5: above 100K prompt tokens every token costs five times more.
_HAIKU_55_LONG_PROMPT = LongContext(100_000, Rates(0.5, 2.5, 0.625, 1.0, 0.05))

_BUILT_IN: dict[ModelId, Price] = {
    ModelId("fable", 5, 1): _row(10, 12.5, 20, 0.25, 50, _PAGE),
    ModelId("mythos", 5, 1): _row(10, 12.5, 20, 0.25, 50, _PAGE),
    ModelId("fable", 5): _row(10, 12.5, 20, 1, 50, _PAGE),
    ModelId("mythos", 5): _row(10, 12.5, 20, 1, 50, _PAGE),
    # Released 2026-11-09: on no Anthropic page checked yet; the CLI's catalog
    # prices both at 8/40 with 0.20 reads, as do the providers reselling Fable 5.2.
    ModelId("fable", 5, 2): _row(8, 10, 16, 0.2, 40, f"{CLI_CATALOG} only"),
    ModelId("mythos", 5, 2): _row(8, 10, 16, 0.2, 40, f"{CLI_CATALOG} only"),
    ModelId("opus", 5, 5): _row(4, 5, 8, 0.2, 20, _model_page("opus-5-5")),
    ModelId("opus", 5): _row(5, 6.25, 10, 0.5, 25, _PAGE),
    ModelId("opus", 4, 8): _row(5, 6.25, 10, 0.5, 25, _PAGE),
    ModelId("opus", 4, 7): _row(5, 6.25, 10, 0.5, 25, _PAGE),
    ModelId("opus", 4, 6): _row(5, 6.25, 10, 0.5, 25, _PAGE),
    ModelId("opus", 4, 5): _row(5, 6.25, 10, 0.5, 25, _PAGE),
    ModelId("opus", 4, 1): _row(15, 18.75, 30, 1.5, 75, _PAGE),
    ModelId("opus", 4): _row(15, 18.75, 30, 1.5, 75, _PAGE),
    ModelId("opus", 3): _row(15, 18.75, 30, 1.5, 75, _PAGE + " (Opus 3 row of an earlier copy)"),
    # Cache reads cut from 0.20 to 0.10 on 2026-10-07: the CLI's catalog has
    # 0.10; the stored copy of the model page still shows 0.20.
    ModelId("sonnet", 5, 5): _row(
        2, 2.5, 4, 0.1, 10, _model_page("sonnet-5-5") + f"; cache read from the {CLI_CATALOG}"
    ),
    ModelId("sonnet", 5): _row(2, 2.5, 4, 0.2, 10, _model_page("sonnet-5")),
    ModelId("sonnet", 4, 6): _row(3, 3.75, 6, 0.3, 15, _PAGE),
    ModelId("sonnet", 4, 5): _row(3, 3.75, 6, 0.3, 15, _PAGE, long_context=_SONNET_LONG_CONTEXT),
    ModelId("sonnet", 4): _row(3, 3.75, 6, 0.3, 15, _PAGE, long_context=_SONNET_LONG_CONTEXT),
    ModelId("sonnet", 3, 7): _row(3, 3.75, 6, 0.3, 15, _PAGE),
    ModelId("sonnet", 3, 5): _row(
        3, 3.75, 6, 0.3, 15, _PAGE + " (Sonnet 3.5 row of an earlier copy)"
    ),
    ModelId("haiku", 5, 5): _row(
        0.1,
        0.125,
        0.2,
        0.01,
        0.5,
        _model_page("haiku-5-5") + f"; cache reads from the {CLI_CATALOG}",
        long_context=_HAIKU_55_LONG_PROMPT,
    ),
    ModelId("haiku", 4, 5): _row(1, 1.25, 2, 0.1, 5, _PAGE),
    ModelId("haiku", 3, 5): _row(0.8, 1, 1.6, 0.08, 4, _PAGE),
    ModelId("haiku", 3): _row(0.25, 0.3, 0.5, 0.03, 1.25, _PAGE),
    # Retired before the pages above were checked: the input and output prices
    # Anthropic announced and kept until retirement (dates on the deprecations
    # page). None of them was offered prompt caching, so their usage holds no
    # cache tokens; the cache prices follow the standard multipliers all the same.
    ModelId("sonnet", 3): standard_price(3, 15, source=_retired(_CLAUDE_3_PRICE, "2025-07-21")),
    ModelId("claude", 2, 1): standard_price(8, 24, source=_retired(_CLAUDE_2_PRICE, "2025-07-21")),
    ModelId("claude", 2): standard_price(8, 24, source=_retired(_CLAUDE_2_PRICE, "2025-07-21")),
    ModelId("instant", 1, 2): standard_price(
        0.8, 2.4, source=_retired(_CLAUDE_2_PRICE, "2024-11-06")
    ),
}

#: Models that have been served and are deliberately left unpriced: no figure
#: on the pages checked, in Anthropic's announcements or in the CLI's catalog.
KNOWN_UNPRICED: dict[str, str] = {
    **{
        f"claude {version}": f"Claude {version} (claude-{version}), retired 2024-11-06: "
        "repriced during its life, and no final list price is published"
        for version in ("1", "1.1", "1.2", "1.3")
    },
    **{
        f"instant {version}": f"Claude Instant {version}, retired 2024-11-06: no list "
        "price is published for this version (Instant 1.2 is priced)"
        for version in ("1", "1.1")
    },
    "claude-mythos-preview": "an id without a version: no price is published for it",
}


# ---------------------------------------------------------------------- table


@dataclass(frozen=True)
class PriceTable:
    """Prices by (family, version), plus exact-id entries from a user's file.

    ``removed`` holds the keys a user's file marked unpriced (``null``).
    """

    entries: Mapping[ModelId, Price]
    exact: Mapping[str, Price] = field(default_factory=dict)
    removed: frozenset[str] = frozenset()
    file: str | None = None
    # Model id -> price, as found: an import prices thousands of requests of few models.
    _found: dict[str, Price | None] = field(default_factory=dict, compare=False, repr=False)

    def price_for(self, model: object) -> Price | None:
        """The price of a model id (any spelling :func:`parse_model` knows), or ``None``."""
        if not isinstance(model, str) or not model:
            return None
        if model not in self._found:
            self._found[model] = self._look_up(model)
        return self._found[model]

    def _look_up(self, model: str) -> Price | None:
        lowered = model.strip().lower()
        for candidate in (lowered, normalize_model(lowered)):
            if candidate in self.exact:
                return self.exact[candidate]
        parsed = parse_model(model)
        if parsed is None:
            return None
        return self.entries.get(parsed)

    def cost(self, model: object, usage: Any) -> float | None:
        """USD for one API message's ``usage``; ``None`` when ``model`` is unpriced."""
        price = self.price_for(model)
        return None if price is None else price.cost(usage)

    def merged(self, overrides: PriceTable) -> PriceTable:
        """This table with ``overrides``' entries replacing or adding to its own."""
        entries = {k: v for k, v in self.entries.items() if k.key not in overrides.removed}
        entries.update(overrides.entries)
        exact = {k: v for k, v in self.exact.items() if k not in overrides.removed}
        exact.update(overrides.exact)
        return PriceTable(entries, exact, self.removed | overrides.removed, overrides.file)

    def rows(self) -> list[tuple[str, Price]]:
        """``(name, price)`` for every entry: families by newest version first, then exact ids."""
        ordered = sorted(
            self.entries.items(), key=lambda kv: (kv[0].family, -kv[0].major, -kv[0].minor)
        )
        rows = [(model.key, price) for model, price in ordered]
        rows.extend(sorted(self.exact.items()))
        return rows


def built_in_price_table() -> PriceTable:
    """The table shipped with claude-sessions (see :data:`SOURCE_URL`, :data:`CHECKED`)."""
    return PriceTable(dict(_BUILT_IN))


# ------------------------------------------------------------------ user file

_PRICE_FIELDS = ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read")
_ENTRY_FIELDS = frozenset((*_PRICE_FIELDS, "web_search", "long_context", "source"))
_LONG_FIELDS = frozenset((*_PRICE_FIELDS, "above_prompt_tokens"))


def _fail(path: str, message: str) -> PriceTableError:
    return PriceTableError(f"price file {path}: {message}", path=path)


def _number(path: str, where: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(path, f"{where} must be a number, not {type(value).__name__}")
    number = float(value)
    if not math.isfinite(number) or number < 0:
        raise _fail(path, f"{where} must be a finite number >= 0, not {value!r}")
    return number


def _check_fields(path: str, where: str, data: Mapping[str, Any], allowed: frozenset[str]) -> None:
    unknown = sorted(str(name) for name in set(data) - allowed)
    if unknown:
        known = ", ".join(sorted(allowed))
        raise _fail(path, f"{where}: unknown field {unknown[0]!r} (known: {known})")


def _rates(path: str, where: str, data: Mapping[str, Any]) -> Rates:
    for required in ("input", "output"):
        if required not in data:
            raise _fail(path, f"{where}: missing {required!r}")
    values = {
        name: _number(path, f"{where}.{name}", data[name]) for name in _PRICE_FIELDS if name in data
    }
    return standard_price(**values).rates


def _entry(path: str, key: str, data: Any) -> Price:
    where = f"models.{key!r}"
    if not isinstance(data, Mapping):
        raise _fail(path, f"{where} must be a table of prices (or null), not {type(data).__name__}")
    _check_fields(path, where, data, _ENTRY_FIELDS)
    rates = _rates(path, where, data)
    long_context = None
    if data.get("long_context") is not None:
        long = data["long_context"]
        long_where = f"{where}.long_context"
        if not isinstance(long, Mapping):
            raise _fail(path, f"{long_where} must be a table")
        above = long.get("above_prompt_tokens")
        if isinstance(above, bool) or not isinstance(above, int) or above <= 0:
            raise _fail(path, f"{long_where}.above_prompt_tokens must be a whole number > 0")
        _check_fields(path, long_where, long, _LONG_FIELDS)
        long_context = LongContext(above, _rates(path, long_where, long))
    web_search = WEB_SEARCH_PRICE
    if "web_search" in data:
        web_search = _number(path, f"{where}.web_search", data["web_search"])
    source = data.get("source", "")
    if not isinstance(source, str):
        raise _fail(path, f"{where}.source must be a string")
    return Price(
        rates.input,
        rates.output,
        rates.cache_write_5m,
        rates.cache_write_1h,
        rates.cache_read,
        web_search=web_search,
        long_context=long_context,
        source=source or f"user file {path}",
        origin=ORIGIN_USER,
    )


def _read(path: str) -> Any:
    try:
        raw = Path(path).expanduser().read_bytes()
    except FileNotFoundError:
        raise _fail(path, "no such file") from None
    except OSError as error:
        raise _fail(path, f"cannot be read ({error.strerror or error})") from None
    if path.lower().endswith(".toml"):
        return _toml(path, raw)
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise _fail(path, "is not UTF-8 text") from None
    except json.JSONDecodeError as error:
        if path.lower().endswith(".json"):
            raise _fail(
                path, f"invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}"
            ) from None
        return _toml(path, raw)


def _toml(path: str, raw: bytes) -> Any:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10 only
        try:
            import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]
        except ImportError:
            raise _fail(
                path, "TOML needs the 'tomli' package on Python 3.10 (or write JSON)"
            ) from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise _fail(path, "is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as error:
        raise _fail(path, f"is neither valid JSON nor valid TOML ({error})") from None


def load_price_file(path: str | os.PathLike[str]) -> PriceTable:
    """The user entries of a price file (JSON, or TOML for a ``.toml`` name).

    The file holds one table, ``models``, whose keys name a model by id
    (``"claude-opus-4-1-20250805"``: the whole family and version, every
    spelling of it) or by family and version (``"opus 4.1"``); a key that is
    neither is matched exactly (lower case), e.g. a proxy's own name. Each
    value holds USD per million tokens::

        {"models": {
          "claude-fable-5-2": {"input": 8, "output": 40, "cache_write_5m": 10,
                               "cache_write_1h": 16, "cache_read": 0.2},
          "opus 4.1": {"input": 15, "output": 75},
          "sonnet 3.7": null
        }}

    ``input`` and ``output`` are required; missing cache prices follow the
    standard multipliers (5m write 1.25x input, 1h write 2x, read 0.1x);
    ``web_search`` is USD per request (default 0.01); ``long_context`` takes
    ``above_prompt_tokens`` and its own rates; ``source`` is a note shown by
    ``claude-sessions prices``. ``null`` makes a model unpriced. Unknown
    fields, negative or non-numeric prices raise :class:`PriceTableError`.
    """
    name = os.fspath(path)
    data = _read(name)
    if not isinstance(data, Mapping):
        raise _fail(name, "must hold a table with a 'models' table")
    unknown = sorted(set(data) - {"models", "source"})
    if unknown:
        raise _fail(name, f"unknown top-level key {unknown[0]!r} (expected 'models')")
    models = data.get("models")
    if not isinstance(models, Mapping):
        raise _fail(name, "'models' must be a table keyed by model id or 'family version'")
    entries: dict[ModelId, Price] = {}
    exact: dict[str, Price] = {}
    removed: set[str] = set()
    for key, value in models.items():
        if not isinstance(key, str) or not key.strip():
            raise _fail(name, f"model key {key!r} must be a non-empty string")
        parsed = parse_price_key(key)
        if value is None:
            removed.add(parsed.key if parsed else key.strip().lower())
            continue
        price = _entry(name, key, value)
        if parsed is not None:
            entries[parsed] = price
        else:
            exact[key.strip().lower()] = price
    return PriceTable(entries, exact, frozenset(removed), name)


@lru_cache(maxsize=8)
def _table_with_file(path: str, mtime_ns: int, size: int) -> PriceTable:
    del mtime_ns, size  # part of the cache key only: an edited file is read again
    return built_in_price_table().merged(load_price_file(path))


@lru_cache(maxsize=1)
def _built_in_cached() -> PriceTable:
    return built_in_price_table()


def default_price_table() -> PriceTable:
    """The built-in table plus ``$CLAUDE_SESSIONS_PRICES``, cached per process
    (the file is read again when its size or modification time changes)."""
    path = os.environ.get(PRICES_ENV_VAR, "").strip()
    if not path:
        return _built_in_cached()
    try:
        stat = Path(path).expanduser().stat()
    except FileNotFoundError:
        raise _fail(path, f"no such file (named by ${PRICES_ENV_VAR})") from None
    except OSError as error:
        raise _fail(path, f"cannot be read ({error.strerror or error})") from None
    return _table_with_file(path, stat.st_mtime_ns, stat.st_size)


def price_report(table: PriceTable | None = None) -> dict[str, Any]:
    """What ``claude-sessions prices --json`` prints: every row, its origin, the sources."""
    chosen = default_price_table() if table is None else table
    return {
        "source": SOURCE_URL,
        "model_pages": MODEL_PAGE_URL,
        "deprecations": DEPRECATIONS_URL,
        "checked": CHECKED,
        "cli_catalog": CLI_CATALOG,
        "user_file": chosen.file,
        "unit": "USD per million tokens; web_search in USD per request",
        "models": [{"model": name, **price.to_dict()} for name, price in chosen.rows()],
        "unpriced": unpriced_rows(chosen),
    }


def unpriced_rows(table: PriceTable) -> list[dict[str, str]]:
    """Known models left unpriced (and why), and those a user file made unpriced."""
    rows = [
        {"model": name, "reason": reason}
        for name, reason in sorted(KNOWN_UNPRICED.items())
        if table.price_for(name) is None and parse_price_key(name) not in table.entries
    ]
    rows.extend(
        {"model": name, "reason": "made unpriced by the user file"}
        for name in sorted(table.removed)
    )
    return rows


def sum_costs(costs: Iterable[float | None]) -> tuple[float, int]:
    """``(total of the priced costs, number of unpriced ones)``."""
    total = 0.0
    unpriced = 0
    for cost in costs:
        if cost is None:
            unpriced += 1
        else:
            total += cost
    return total, unpriced


__all__ = [
    "CHECKED",
    "CLI_CATALOG",
    "KNOWN_UNPRICED",
    "PRICES_ENV_VAR",
    "SOURCE_URL",
    "LongContext",
    "ModelId",
    "Price",
    "PriceTable",
    "Rates",
    "UsageCounts",
    "built_in_price_table",
    "default_price_table",
    "load_price_file",
    "normalize_model",
    "parse_model",
    "price_report",
    "standard_price",
    "sum_costs",
    "token_counts",
    "unpriced_rows",
    "usage_counts",
]
