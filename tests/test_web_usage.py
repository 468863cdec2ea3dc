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


STARTS = [
    datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc),
    datetime(2026, 3, 2, 9, 55, tzinfo=timezone.utc),
    datetime(2026, 3, 3, 23, 10, tzinfo=timezone.utc),
    datetime(2026, 3, 8, 0, 5, tzinfo=timezone.utc),
]


def sessions_started(store: SessionStore) -> None:
    for n, start in enumerate(STARTS):
        t = Transcript(sid(800 + n), model=HAIKU if n % 2 else OPUS, start=start)
        t.user(f"Task {n}")
        t.say("Done.")
        store.save_session(t.session_id, t.entries)


def test_usage_by_hour_of_the_week(store: SessionStore) -> None:
    sessions_started(store)
    expected: dict[str, int] = {}
    for start in STARTS:
        key = f"{start.strftime('%a')} {start.hour:02d}"  # C locale: Mon, Tue, ...
        expected[key] = expected.get(key, 0) + 1
    found = {bucket.key[0]: bucket.sessions for bucket in store.usage("hour")}
    assert found == expected == {"Mon 09": 2, "Tue 23": 1, "Sun 00": 1}
    by_model = {bucket.key: bucket.sessions for bucket in store.usage(("hour", "model"))}
    assert by_model[("Mon 09", OPUS)] == 1 and by_model[("Mon 09", HAIKU)] == 1
    narrowed = {bucket.key[0]: bucket.sessions for bucket in store.usage("hour", model=OPUS)}
    opus = [f"{s.strftime('%a')} {s.hour:02d}" for n, s in enumerate(STARTS) if n % 2 == 0]
    assert narrowed == {key: opus.count(key) for key in opus}  # a filter's placeholder too


def test_the_timeline_counts_sessions_per_day_and_hour_of_the_week(store: SessionStore) -> None:
    sessions_started(store)
    with TestClient(create_app(store)) as client:
        html = client.get("/usage", params={"last": "all", "stack": "model"}).text
    timeline = html[html.index('<section class="timeline"') :]
    timeline = timeline[: timeline.index("</section>")]
    per_day: dict[str, int] = {}
    for start in STARTS:
        per_day[start.date().isoformat()] = per_day.get(start.date().isoformat(), 0) + 1
    bars = re.findall(r"<title>(\d{4}-\d\d-\d\d) · [^:]+: (\d+)</title>", timeline)
    summed: dict[str, int] = {}
    for day, count in bars:
        summed[day] = summed.get(day, 0) + int(count)
    assert summed == per_day
    cells = re.findall(r'<rect class="cell (h\d)"[^>]*><title>(\w+ \d\d): (\d+) sessions', timeline)
    assert len(cells) == 7 * 24
    busy = {where: (shade, int(count)) for shade, where, count in cells if count != "0"}
    assert busy == {"Mon 09": ("h4", 2), "Tue 23": ("h2", 1), "Sun 00": ("h2", 1)}
    assert {shade for shade, _, count in cells if count == "0"} == {"h0"}


def test_the_usage_form_has_no_field_that_only_narrows_a_text_search(client: TestClient) -> None:
    """The usage page has no search box: "Said in" would narrow nothing there."""
    page = client.get("/usage").text
    assert 'name="in"' not in page and "Said in" not in page
    assert 'name="tool"' in page  # a filter of its own stays
    assert 'name="in"' in client.get("/").text  # the sessions list searches
