"""The figures a group of sessions or requests adds up to: tokens (cache writes and
reads apart), sessions, turns and cost; what ``stats`` and usage blocks both show. And
where a session's token figures came from, as every face words it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from claude_sessions.store import UsageBucket

# Where token figures come from (SessionMetadata.figures_from), as every face words it.
FIGURE_SOURCES = {
    "result": "the CLI's own run totals",
    "transcript": "transcript lines (which under-record output tokens)",
}


@dataclass
class Tokens:
    """Token figures: ``input_tokens`` is everything the model read, cache writes
    (5-minute, 1-hour) and reads included; :meth:`token_dict` also gives them apart."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_5m_tokens: int = 0
    cache_write_1h_tokens: int = 0
    cache_read_tokens: int = 0

    @property
    def cache_write_tokens(self) -> int:
        return self.cache_write_5m_tokens + self.cache_write_1h_tokens

    @property
    def uncached_input_tokens(self) -> int:
        """Plain input: what the model read neither from nor into the cache."""
        return self.input_tokens - self.cache_write_tokens - self.cache_read_tokens

    def add_tokens(self, found: UsageBucket) -> None:
        self.input_tokens += found.input_tokens
        self.output_tokens += found.output_tokens
        self.cache_write_5m_tokens += found.cache_write_5m_tokens
        self.cache_write_1h_tokens += found.cache_write_1h_tokens
        self.cache_read_tokens += found.cache_read_tokens

    def token_dict(self) -> dict[str, int]:
        return {
            "input_tokens": self.input_tokens,
            "uncached_input_tokens": self.uncached_input_tokens,
            "cache_write_tokens": self.cache_write_tokens,
            "cache_write_5m_tokens": self.cache_write_5m_tokens,
            "cache_write_1h_tokens": self.cache_write_1h_tokens,
            "cache_read_tokens": self.cache_read_tokens,
            "output_tokens": self.output_tokens,
        }


@dataclass
class Bucket(Tokens):
    """One group (a period, a model, a tag or a project) and its figures. By model,
    ``turns`` are the group's API requests."""

    key: str = ""
    sessions: int = 0
    turns: int = 0
    cost: float = 0.0
    unpriced_sessions: int = 0

    @classmethod
    def of(cls, found: UsageBucket) -> Bucket:
        bucket = cls(
            key=found.key[0],
            sessions=found.sessions,
            turns=found.turns,
            cost=found.cost,
            unpriced_sessions=found.unpriced_sessions,
        )
        bucket.add_tokens(found)
        return bucket

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "sessions": self.sessions,
            "turns": self.turns,
            "cost": self.cost,
            **self.token_dict(),
            "unpriced_sessions": self.unpriced_sessions,
        }


def figures_source(source: str) -> str:
    """Where one session's token figures came from (its ``figures_from``), in words."""
    return FIGURE_SOURCES.get(source, FIGURE_SOURCES["transcript"])


def figures_sources(counts: dict[str, int]) -> str:
    """Where a report's token figures came from (``counts``: sessions by source, as
    ``Stats.figures_from`` gives them), in one sentence."""
    return (
        f"Token figures: {counts.get('result', 0)} session(s) from {FIGURE_SOURCES['result']}, "
        f"{counts.get('transcript', 0)} from {FIGURE_SOURCES['transcript']}"
    )
