"""How every face shows a cost: as a lower bound ("at least $1.20") when part of
the usage it adds up is of a model without a price.

A request of an unpriced model (see :mod:`claude_sessions.model.pricing`) has its
tokens counted but no cost, so the total leaves it out: shown plainly, "$0" would
read as free. The terminal, the web app, the exports and the MCP tools all ask
:func:`is_lower_bound` and word it with :func:`bounded`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from claude_sessions.store.records import SessionMetadata

if TYPE_CHECKING:
    from claude_sessions.store.records import UsageBucket
    from claude_sessions.views.figures import Bucket
    from claude_sessions.views.stats import Stats

LOWER_BOUND = "at least"


def is_lower_bound(found: SessionMetadata | UsageBucket | Bucket | Stats) -> bool:
    """Whether the cost of a session, a group of sessions or a whole report leaves out
    requests of a model without a price."""
    if isinstance(found, SessionMetadata):
        return bool(found.unpriced_models)
    return found.unpriced_sessions > 0


def bounded(text: str, lower_bound: bool) -> str:
    """A formatted cost, ``at least`` before it when it is a lower bound."""
    return f"{LOWER_BOUND} {text}" if lower_bound else text


def metadata_json(metadata: SessionMetadata) -> dict[str, Any]:
    """A session's facts for JSON output, saying whether its cost is a lower bound."""
    return {**metadata.to_dict(), "cost_is_lower_bound": is_lower_bound(metadata)}
