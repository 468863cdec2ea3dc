"""Usage statistics over the stored sessions: counts and cost by day, model, tag and project."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .store import SessionMetadata, SessionStore

UNKNOWN = "(none)"


@dataclass
class Bucket:
    """Sessions and their cost in one group (a day, a model, a tag or a project)."""

    key: str
    sessions: int = 0
    cost: float = 0.0
    turns: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "sessions": self.sessions, "cost": self.cost, "turns": self.turns}


@dataclass
class Stats:
    """What :func:`compute_stats` found. Buckets are sorted by cost, highest first
    (days by date, newest first). A session with several tags counts under each."""

    sessions: int = 0
    total_cost: float = 0.0
    turns: int = 0
    messages: int = 0
    by_day: list[Bucket] = field(default_factory=list)
    by_model: list[Bucket] = field(default_factory=list)
    by_tag: list[Bucket] = field(default_factory=list)
    by_project: list[Bucket] = field(default_factory=list)
    top: list[SessionMetadata] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "sessions": self.sessions,
            "total_cost": self.total_cost,
            "turns": self.turns,
            "messages": self.messages,
            "by_day": [b.to_dict() for b in self.by_day],
            "by_model": [b.to_dict() for b in self.by_model],
            "by_tag": [b.to_dict() for b in self.by_tag],
            "by_project": [b.to_dict() for b in self.by_project],
            "top": [m.to_dict() for m in self.top],
        }


def _add(groups: dict[str, Bucket], key: str, metadata: SessionMetadata) -> None:
    bucket = groups.setdefault(key, Bucket(key))
    bucket.sessions += 1
    bucket.cost += metadata.total_cost
    bucket.turns += metadata.turns


def _by_cost(groups: dict[str, Bucket]) -> list[Bucket]:
    return sorted(groups.values(), key=lambda b: (-b.cost, -b.sessions, b.key))


def summarize(sessions: Iterable[SessionMetadata], *, top: int = 10) -> Stats:
    """Statistics over ``sessions`` (days are the UTC day each session was created)."""
    stats = Stats()
    days: dict[str, Bucket] = {}
    models: dict[str, Bucket] = {}
    tags: dict[str, Bucket] = {}
    projects: dict[str, Bucket] = {}
    everything: list[SessionMetadata] = []
    for metadata in sessions:
        everything.append(metadata)
        stats.sessions += 1
        stats.total_cost += metadata.total_cost
        stats.turns += metadata.turns
        stats.messages += metadata.message_count
        _add(days, metadata.created_at.date().isoformat(), metadata)
        _add(models, metadata.model or UNKNOWN, metadata)
        for tag in metadata.tags or (UNKNOWN,):
            _add(tags, tag, metadata)
        _add(projects, metadata.project or metadata.project_key or UNKNOWN, metadata)
    stats.total_cost = round(stats.total_cost, 10)
    stats.by_day = sorted(days.values(), key=lambda b: b.key, reverse=True)
    stats.by_model = _by_cost(models)
    stats.by_tag = _by_cost(tags)
    stats.by_project = _by_cost(projects)
    stats.top = sorted(everything, key=lambda m: (-m.total_cost, m.session_id))[:top]
    return stats


def compute_stats(
    store: SessionStore,
    *,
    after: date | datetime | None = None,
    before: date | datetime | None = None,
    project: str | None = None,
    tags: Iterable[str] | None = None,
    model: str | None = None,
    top: int = 10,
) -> Stats:
    """Statistics over the stored sessions matching the (optional) criteria."""
    sessions = store.search(
        after=after,
        before=before,
        project=project,
        tags=list(tags) if tags else None,
        model=model,
    )
    return summarize(sessions, top=top)
