"""A :class:`~claude_sessions.model.filters.SessionFilter` as SQL: one loop for both databases.

Each given filter becomes one condition on the ``sessions`` row (alias ``s``),
from its spec's operator and columns; the dialect is asked only where the
engines differ (a case-blind substring, tags, how a time or a text is passed).
Full text is not here: each dialect ranks it its own way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from claude_sessions.model.filters import Kind, Operator, SessionFilter, Spec, moment_bound

if TYPE_CHECKING:
    from claude_sessions.store.dialect import Dialect

_COMPARISONS = {Operator.AT_LEAST: ">=", Operator.AT_MOST: "<="}


def conditions(
    d: Dialect,
    where: SessionFilter,
    *,
    trashed: bool,
    visible_to: str | None = None,
    models: list[str] | None = None,
) -> tuple[list[str], list[Any]]:
    """The conditions (combined with AND) and their parameters, in the dialect's style;
    ``visible_to``: only the sessions a viewer seeing that user's may see (see
    :mod:`.visibility`); ``models``: the model names the model filter was found to
    match (see :mod:`.lead_walk`), taken as exact names."""
    clauses = ["s.trashed_at IS NOT NULL" if trashed else "s.trashed_at IS NULL"]
    params: list[Any] = []
    if visible_to is not None:
        from claude_sessions.store.access import visible_condition

        clause, values = visible_condition(d, visible_to)
        clauses.append(clause)
        params.extend(values)
    for name, spec, value in where.given():
        if name == "model" and models is not None:
            clause, names = d.any_of("s.model", models)
            clauses.append(d.sql(clause))
            params.extend(names)
            continue
        found = _condition(d, spec, value, where)
        if found is not None:
            clauses.append(found[0])
            params.extend(found[1])
    return clauses, params


def ranged(where: SessionFilter) -> bool:
    """Whether a filter bounds a range of some column (an index range may serve it)."""
    return any(spec.operator in _COMPARISONS for _, spec, _ in where.given())


def _condition(
    d: Dialect, spec: Spec, value: Any, where: SessionFilter
) -> tuple[str, list[Any]] | None:
    operator = spec.operator
    if operator in (Operator.MATCHES, Operator.MODIFIES):
        return None
    if operator is Operator.HAS_TAGS:
        return d.has_tags([d.text(tag) or "" for tag in value], every=where.match_all_tags)
    if operator is Operator.USED_TOOL:
        return d.used_tool(value)
    if operator is Operator.HAS_ROWS:
        return f"EXISTS (SELECT 1 FROM {spec.columns[0]} r WHERE r.session_ref = s.id)", []
    columns = [f"s.{column}" for column in spec.columns]
    if operator is Operator.CONTAINS:
        return d.contains(columns[0], d.text(value) or "")
    param = _param(d, spec, value)
    if operator is Operator.EQUALS:
        either = " OR ".join(f"{column} = ?" for column in columns)
        return d.sql(f"({either})"), [param] * len(columns)
    return d.sql(f"{columns[0]} {_COMPARISONS[operator]} ?"), [param]


def _param(d: Dialect, spec: Spec, value: Any) -> Any:
    if spec.kind is Kind.MOMENT:
        return d.time(moment_bound(value, end_of_day=spec.operator is Operator.AT_MOST))
    return d.text(value) if isinstance(value, str) else value
