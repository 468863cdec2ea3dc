"""A member's listing of one tag (or of several all required), with or without a date
range, holds only what they may see, on both databases: the tag rows' own index is
walked, but who may see a session is on the session's row."""

from __future__ import annotations

from datetime import date

import pytest

from claude_sessions import SessionStore

from .team_samples import MEMBERS, SAMPLES, Team, make_team


@pytest.fixture
def team(store: SessionStore, monkeypatch: pytest.MonkeyPatch) -> Team:
    made = make_team(store, monkeypatch)
    for n, sample in enumerate(SAMPLES):
        store.add_tags(sample.session_id, ["team", *(["odd"] if n % 2 else [])])
    return made


@pytest.mark.parametrize("name", [*MEMBERS, "root"])
def test_a_tag_lists_only_what_the_viewer_may_see(team: Team, name: str) -> None:
    seen = team.as_(name)
    visible = team.visible_to(name)
    odd = {s.session_id for n, s in enumerate(SAMPLES) if n % 2} & visible
    searches = {
        "one tag": ({"tags": ["team"]}, visible),
        "one tag, a date range": ({"tags": ["team"], "after": date(2000, 1, 1)}, visible),
        "every tag": ({"tags": ["team", "odd"], "match_all_tags": True}, odd),
    }
    for label, (where, expected) in searches.items():
        found = {m.session_id for m in seen.search(limit=None, **where)}
        assert found == expected, label
