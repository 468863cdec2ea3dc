"""The usage page's charts, read from the rendered page (on SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest
from starlette.testclient import TestClient

from claude_sessions import SessionStore
from claude_sessions.web import create_app

from .web_samples import HAIKU, OPUS, Transcript, sid

START = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)


def costly_and_wordy(store: SessionStore) -> None:
    """Opus: few tokens at a high price; Haiku: five times the tokens, mostly read, a
    tenth of the cost. The cost chart puts Opus first, the tokens chart Haiku."""
    opus = Transcript(sid(700), model=OPUS, start=START)
    opus.user("Plan the migration")
    opus.say("Plan: three steps.", tokens=(10_000, 10_000))
    store.save_session(opus.session_id, opus.entries)
    haiku = Transcript(sid(701), model=HAIKU, start=START)
    haiku.user("List every file")
    haiku.say("Here they are.", tokens=(100_000, 1_000))
    store.save_session(haiku.session_id, haiku.entries)


@pytest.fixture
def client(store: SessionStore) -> Iterator[TestClient]:
    costly_and_wordy(store)
    with TestClient(create_app(store)) as found:
        yield found


def legends(html: str) -> list[dict[str, str]]:
    """Each chart's legend: series name -> its colour class."""
    found = []
    for figure in re.findall(r'<figure class="chart">(.*?)</figure>', html, re.S):
        pairs = re.findall(r'<rect class="bar (\w+)" width="12"[^>]*/></svg>([^<]+)</li>', figure)
        found.append({name: css for css, name in pairs})
    return found


def test_a_model_has_one_colour_in_every_chart(client: TestClient) -> None:
    html = client.get("/usage", params={"last": "all", "stack": "model"}).text
    cost_legend, token_legend = legends(html)[:2]
    assert set(cost_legend) == {OPUS, HAIKU}
    assert cost_legend == token_legend
    assert cost_legend[OPUS] != cost_legend[HAIKU]
    bars = {
        css: re.findall(rf'<rect class="bar {css}" x=[^>]*><title>[^:]*· ([^:]+):', html)
        for css in cost_legend.values()
    }
    assert {css: set(names) for css, names in bars.items()} == {
        css: {name} for name, css in cost_legend.items()
    }


def test_series_past_the_colours_fold_into_other_alike_in_every_chart() -> None:
    from claude_sessions.web.charts import MAX_SERIES, palette, stacked_bars

    names = [f"tag-{n}" for n in range(MAX_SERIES + 3)]
    # the cost chart ranks the names one way, the tokens chart the opposite way
    costs = {name: [float(n + 1)] for n, name in enumerate(names)}
    counts = {name: [float(len(names) - n)] for n, name in enumerate(names)}
    colours = palette(costs, counts)
    charts = [
        stacked_bars(t, ["2026-03-02"], s, str, colours=colours)
        for t, s in (("c", costs), ("t", counts))
    ]
    assert charts[0].legend == charts[1].legend
    expected = [(f"s{i}", names[-1 - i]) for i in range(MAX_SERIES - 1)] + [("other", "other")]
    assert charts[0].legend == expected
