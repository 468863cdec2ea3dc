"""SessionStore.search: criteria, combination, full text, invalid queries."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from claude_sessions import InvalidQueryError

from .store_samples import run


@pytest.fixture
def populated(store_factory, fake_clock):
    fake_clock.now = datetime(2025, 1, 1, 12, tzinfo=timezone.utc)
    store = store_factory(clock=fake_clock)
    plan = [
        (
            "s-a",
            ["auth", "security"],
            0.10,
            "claude-sonnet-4-5",
            "the login form validates passwords",
        ),
        ("s-b", ["auth"], 0.50, "claude-opus-4-5", "GraphQL schema for users"),
        ("s-c", ["docs"], 1.00, "claude-haiku-4-5", "documentation of the REST endpoints"),
        ("s-d", [], 0.00, "claude-sonnet-4-5", "nothing to see: claude-sonnet here"),
    ]
    for sid, tags, cost, model, text in plan:
        store.save_session(
            sid, run(sid, cost=cost, model=model, text=text), tags=tags, description=f"about {sid}"
        )
        fake_clock.advance(days=10)
    return store


def ids(found):
    return [m.session_id for m in found]


def test_tags_any_and_all(populated):
    assert ids(populated.search(tags=["security", "docs"])) == ["s-c", "s-a"]
    assert ids(populated.search(tags=["auth", "security"], match_all_tags=True)) == ["s-a"]
    assert ids(populated.search(tags="auth")) == ["s-b", "s-a"]


def test_dates_inclusive_and_whole_day(populated):
    # created: s-a 2025-01-01 12:00, s-b 01-11, s-c 01-21, s-d 01-31
    assert ids(populated.search(after=date(2025, 1, 11))) == ["s-d", "s-c", "s-b"]
    assert ids(populated.search(before=date(2025, 1, 11))) == ["s-b", "s-a"]
    assert ids(populated.search(after=date(2025, 1, 11), before=date(2025, 1, 21))) == [
        "s-c",
        "s-b",
    ]
    noon = datetime(2025, 1, 11, 12)  # naive = UTC, inclusive
    assert ids(populated.search(after=noon, before=noon)) == ["s-b"]
    aware = datetime(2025, 1, 11, 13, tzinfo=timezone(timedelta(hours=1)))
    assert ids(populated.search(after=aware, before=aware)) == ["s-b"]


def test_cost_model_project_and_combination(populated):
    assert ids(populated.search(min_cost=0.5)) == ["s-c", "s-b"]
    assert ids(populated.search(max_cost=0.1)) == ["s-d", "s-a"]
    assert ids(populated.search(min_cost=0.1, max_cost=0.5)) == ["s-b", "s-a"]
    assert ids(populated.search(model="SONNET")) == ["s-d", "s-a"]
    assert ids(populated.search(model="%")) == []
    assert len(populated.search(project="/work/app")) == 4
    assert ids(populated.search(tags=["auth"], min_cost=0.2, after=date(2025, 1, 2))) == ["s-b"]
    assert ids(populated.search(limit=2, offset=1)) == ["s-c", "s-b"]
    assert len(populated.search()) == 4


def test_full_text_ranked_with_snippet(populated):
    found = populated.search(text="graphql")
    assert ids(found) == ["s-b"]
    assert "[GraphQL]" in found[0].snippet
    assert isinstance(found[0].rank, float)
    assert ids(populated.search(text="login passwords")) == ["s-a"]
    assert ids(populated.search(text="about s-c")) == ["s-c"]  # description is indexed
    assert ids(populated.search(text="claude-sonnet")) == ["s-d"]  # punctuation is not syntax
    assert ids(populated.search(text='"REST endpoints"')) == ["s-c"]
    assert set(ids(populated.search(text="graphql OR documentation"))) == {"s-b", "s-c"}
    assert ids(populated.search(text="docum*")) == ["s-c"]
    assert ids(populated.search(text="graphql", tags=["docs"])) == []
    filtered = populated.search(text="graphql OR documentation", tags=["auth"], min_cost=0.2)
    assert ids(filtered) == ["s-b"]
    assert "[GraphQL]" in filtered[0].snippet
    assert len(populated.search(text="about", limit=2)) == 2
    assert len(populated.search(text="about", limit=2, offset=3)) == 1
    assert populated.search(text="zzzz") == []


def test_full_text_follows_updates(populated):
    populated.save_session("s-d", run("s-d", text="now about kubernetes"))
    assert ids(populated.search(text="kubernetes")) == ["s-d"]
    assert populated.search(text="nothing") == []
    populated.set_description("s-d", "helm charts")
    assert ids(populated.search(text="helm")) == ["s-d"]


@pytest.mark.parametrize(
    "criteria",
    [
        {"min_cost": 2, "max_cost": 1},
        {"min_cost": -1},
        {"max_cost": float("nan")},
        {"min_cost": "1"},
        {"min_cost": True},
        {"after": date(2025, 2, 1), "before": date(2025, 1, 1)},
        {"after": "2025-01-01"},
        {"before": 12},
        {"tags": [1]},
        {"tags": 5},
        {"text": ""},
        {"text": "   "},
        {"text": 3},
        {"text": '"unclosed'},
        {"text": "foo AND"},
        {"text": "(graphql"},
        {"model": 4},
        {"limit": -1},
        {"limit": "10"},
        {"offset": -2},
        {"match_all_tags": "yes"},
    ],
)
def test_invalid_criteria(populated, criteria):
    with pytest.raises(InvalidQueryError):
        populated.search(**criteria)


def test_invalid_list_arguments(populated):
    with pytest.raises(InvalidQueryError):
        populated.list_sessions(-1)
    with pytest.raises(ValueError, match="offset"):
        populated.list_sessions(offset=-1)
