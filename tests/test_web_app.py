"""The web app's pages, fragments and errors, driven in-process (on SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from claude_sessions import SessionStore
from claude_sessions.importer import import_transcripts
from claude_sessions.views.conversation import build_conversation, join_replies
from claude_sessions.web import create_app

from .web_samples import XSS_TEXT_VISIBLE, Transcript, long_session, populate, sid

REAL_TRANSCRIPTS = Path(__file__).parent / "fixtures" / "transcripts" / "projects"
WITH_SUBAGENT = "ae4a77f8-aedd-4bc1-888f-c94edc91af04"
WITH_COMPACTION = "8463c716-a2ea-4c14-9efa-87158ebd9f20"


@pytest.fixture
def ids(store: SessionStore) -> dict[str, str]:
    return populate(store)


@pytest.fixture
def client(store: SessionStore, ids: dict[str, str]) -> Iterator[TestClient]:
    with TestClient(create_app(store)) as found:
        yield found


def titles(html: str) -> list[str]:
    return re.findall(r'<a class="title" href="/s/([^"]+)"', html)


def test_sessions_page_lists_the_newest_first(client: TestClient, ids: dict[str, str]) -> None:
    response = client.get("/")
    assert response.status_code == 200
    listed = titles(response.text)
    assert listed[0] == ids["xss"]  # updated last
    assert set(ids.values()) <= set(listed)
    assert "Login rate limit" in response.text
    assert 'data-live="/events"' in response.text


def test_full_text_search_marks_matches_after_escaping(
    client: TestClient, ids: dict[str, str]
) -> None:
    response = client.get("/", params={"text": "limiter"})
    assert response.status_code == 200
    assert titles(response.text) == [ids["auth"]]
    assert "Here is the <mark>limiter</mark>, a sliding window" in response.text


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"tags": "nginx"}, ["fork2"]),
        ({"tags": "auth, nginx", "match_all_tags": "1"}, ["fork2"]),
        ({"tags": "design security"}, ["design", "auth"]),
        ({"model": "opus", "after": "2026-03-10"}, ["design"]),
        ({"project": "/home/alice/work/site"}, ["design"]),
        ({"before": "2026-03-02"}, ["api-0"]),
        ({"min_cost": "0.03"}, ["auth"]),
        ({"max_cost": "0.002", "tags": "api"}, ["api-5", "api-2"]),
    ],
)
def test_filters_come_from_the_url(
    client: TestClient, ids: dict[str, str], params: dict[str, str], expected: list[str]
) -> None:
    response = client.get("/", params=params)
    assert response.status_code == 200
    assert titles(response.text) == [ids[name] for name in expected]
    for value in params.values():  # the form shows the filters it applied
        assert f'value="{value}"' in response.text or value == "1"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"after": "yesterday"}, "after: not a date"),
        ({"min_cost": "cheap"}, "min_cost is not a number"),
        ({"min_cost": "2", "max_cost": "1"}, "is above max_cost"),
        ({"cursor": "not-a-cursor"}, "not a page cursor"),
        ({"text": '"unbalanced'}, ""),
    ],
)
def test_a_bad_filter_is_a_400_page_with_the_message(
    client: TestClient, params: dict[str, str], message: str
) -> None:
    response = client.get("/", params=params)
    assert response.status_code == 400
    assert "400 · Bad request" in response.text
    assert message in response.text
    assert "Traceback" not in response.text


def test_keyset_pages_cover_every_session_once(store: SessionStore) -> None:
    for n in range(120):
        store.save_session(sid(1000 + n), long_session(sid(1000 + n), 1))
    client = TestClient(create_app(store))
    seen: list[str] = []
    url = "/"
    pages = 0
    while url:
        response = client.get(url)
        assert response.status_code == 200
        seen += titles(response.text)
        found = re.search(r'<a rel="next" href="([^"]+)"', response.text)
        url = found.group(1).replace("&amp;", "&") if found else ""
        pages += 1
    assert pages == 3
    assert len(seen) == len(set(seen)) == 120


def test_the_list_fragment_is_the_results_only(client: TestClient) -> None:
    response = client.get("/", params={"fragment": "1", "tags": "api"})
    assert response.text.lstrip().startswith('<section id="results"')
    assert len(titles(response.text)) == 6


def test_session_page_shows_the_conversation(client: TestClient, ids: dict[str, str]) -> None:
    response = client.get(f"/s/{ids['auth']}")
    assert response.status_code == 200
    html = response.text
    assert "Add rate limiting to the login endpoint" in html
    assert '<details class="thinking">' in html
    assert '<span class="tool-name">Bash</span>' in html
    assert "show 40 more lines" in html  # 60 lines of output, 20 shown
    assert '<pre class="highlight"><code><span class="k">def</span>' in html
    assert '<a href="https://redis.io/docs/latest/commands/incr/" rel="noopener' in html
    assert "Failed to connect" in html and "failed-label" in html  # the failed call
    assert "$0.04" in html  # the panel's cost
    assert 'action="/s/' in html and 'name="csrf_token"' in html
    assert "/download/markdown" in html
    assert ids["fork"] in html and ids["fork2"] in html  # its forks


def test_session_page_shows_images_and_compaction(client: TestClient, ids: dict[str, str]) -> None:
    html = client.get(f"/s/{ids['design']}").text
    assert re.search(r'<img class="image" src="data:image/png;base64,[A-Za-z0-9+/=]+"', html)
    assert "Conversation compacted (auto, 167,731 tokens before)" in html
    assert "Summary of the earlier conversation" in html


def test_a_fork_links_to_its_origin(client: TestClient, ids: dict[str, str]) -> None:
    html = client.get(f"/s/{ids['fork']}").text
    assert f'href="/s/{ids["auth"]}">Login rate limit</a>' in html
    assert "at message" in html


def test_a_unique_prefix_redirects_to_the_session(client: TestClient, ids: dict[str, str]) -> None:
    response = client.get(f"/s/{ids['design'][:8]}", follow_redirects=False)
    assert response.status_code == 302
    assert response.headers["location"] == f"/s/{ids['design']}"


@pytest.mark.parametrize(
    "path",
    [
        "/s/no-such-session",
        "/s/no-such-session/turns",
        "/s/no-such-session/facts",
        "/s/no-such-session/lineage",
        "/s/no-such-session/download/json",
        "/no/such/page",
    ],
)
def test_unknown_ids_and_pages_are_a_404_page(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert "404 · Not found" in response.text
    assert response.headers["content-type"].startswith("text/html")


def test_an_unknown_download_format_is_a_404(client: TestClient, ids: dict[str, str]) -> None:
    assert client.get(f"/s/{ids['auth']}/download/pdf").status_code == 404


@pytest.mark.parametrize(
    ("fmt", "media", "needle"),
    [
        ("html", "text/html", "<!DOCTYPE html>"),
        ("markdown", "text/markdown", "# Login rate limit"),
        ("json", "application/json", '"session_id"'),
    ],
)
def test_downloads(
    client: TestClient, ids: dict[str, str], fmt: str, media: str, needle: str
) -> None:
    response = client.get(f"/s/{ids['auth']}/download/{fmt}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media)
    assert response.headers["content-disposition"].startswith("attachment;")
    assert needle in response.text


def test_a_long_session_comes_in_slices(store: SessionStore) -> None:
    store.save_session(sid(77), long_session(sid(77), 130))  # 130 prompts: 390 turns
    client = TestClient(create_app(store))
    first = client.get(f"/s/{sid(77)}").text
    assert first.count('class="turn ') == 100
    assert 'data-total="390"' in first
    assert f'data-src="/s/{sid(77)}/turns?start=100"' in first
    rest = client.get(f"/s/{sid(77)}/turns", params={"start": 300}).text
    assert rest.count('class="turn ') == 90
    assert 'data-start="300"' in rest and 'a class="more"' not in rest
    assert "Step 129 passed" in rest
    assert client.get(f"/s/{sid(77)}/turns", params={"start": "x"}).status_code == 400


def test_the_facts_fragment(store: SessionStore, client: TestClient, ids: dict[str, str]) -> None:
    response = client.get(f"/s/{ids['auth']}/facts")
    metadata = store.get_metadata(ids["auth"])
    assert metadata is not None
    assert response.text.startswith('<dl id="facts"')
    assert f"<dt>Messages</dt><dd>{metadata.message_count}</dd>" in response.text
    assert f"{metadata.uncached_input_tokens:,} in" in response.text
    writes = metadata.cache_write_5m_tokens + metadata.cache_write_1h_tokens
    assert f"{writes:,} cache writes" in response.text
    assert f"{metadata.cache_read_tokens:,} cache reads" in response.text


def test_lineage_page_draws_the_fork_tree(client: TestClient, ids: dict[str, str]) -> None:
    html = client.get(f"/s/{ids['fork']}/lineage").text
    svg = html[html.index('<svg class="lineage"') : html.index("</svg>")]
    for name in ("auth", "fork", "fork2"):
        assert f'href="/s/{ids[name]}"' in svg
    assert svg.count('<g class="node') == 3
    assert svg.count('<g class="node focus">') == 1
    assert svg.count('<circle class="branch"') == 1  # only the fork with forked_at
    assert "Branched after message" in svg
    assert "style=" not in html


def test_lineage_of_a_fork_whose_origin_is_gone(store: SessionStore) -> None:
    store.save_session(sid(9), long_session(sid(9), 1), forked_from=sid(8))
    html = TestClient(create_app(store)).get(f"/s/{sid(9)}/lineage").text
    assert 'class="node missing"' in html
    assert "no longer stored" in html


def test_usage_page_has_the_numbers_of_stats(store: SessionStore, client: TestClient) -> None:
    from claude_sessions.views.stats import compute_stats

    html = client.get("/usage", params={"last": "all"}).text
    stats = compute_stats(store)
    assert f'<span class="figure">{stats.sessions}</span>' in html
    assert f"${stats.total_cost:.2f}" in html
    assert html.count('<figure class="chart">') == 3  # cost, tokens and sessions
    assert '<rect class="bar s0"' in html and "<title>2026-03-13 · " in html
    assert "The figures as a table" in html
    assert "Most expensive sessions" in html
    assert "style=" not in html


def test_usage_looks_back_30_days_unless_told(store: SessionStore, client: TestClient) -> None:
    from claude_sessions.views.stats import compute_stats

    today = datetime.now(timezone.utc)
    recent = Transcript(sid(50), start=today - timedelta(days=2))
    recent.user("A fresh question")
    recent.say("A fresh answer")
    store.save_session(sid(50), recent.entries)
    since = (today - timedelta(days=29)).date()
    html = client.get("/usage").text
    assert f"Sessions created since {since.isoformat()}" in html
    assert '<span class="figure">1</span><span class="what">sessions</span>' in html
    assert compute_stats(store, after=since).sessions == 1
    every = client.get("/usage", params={"last": "all"}).text
    assert f'<span class="figure">{compute_stats(store).sessions}</span>' in every
    dated = client.get("/usage", params={"after": "2026-03-13", "before": "2026-03-14"}).text
    chosen = compute_stats(store, after=date(2026, 3, 13), before=date(2026, 3, 14)).sessions
    assert 0 < chosen < compute_stats(store).sessions
    assert f'<span class="figure">{chosen}</span><span class="what">sessions</span>' in dated


def test_usage_figures_follow_every_filter(store: SessionStore, client: TestClient) -> None:
    """The totals and breakdowns obey the same filters as the charts (cost included)."""
    from claude_sessions.views.stats import compute_stats

    costs = sorted(m.total_cost for m in store.list_sessions())
    floor = costs[len(costs) // 2]
    html = client.get("/usage", params={"last": "all", "min_cost": f"{floor}"}).text
    chosen = compute_stats(store, min_cost=floor).sessions
    assert 0 < chosen < compute_stats(store).sessions
    assert f'<span class="figure">{chosen}</span><span class="what">sessions</span>' in html


@pytest.mark.parametrize(
    "params",
    [
        {"period": "week", "stack": "tag", "last": "all"},
        {"period": "month", "stack": "project", "last": "365"},
    ],
)
def test_usage_by_week_and_month(client: TestClient, params: dict[str, str]) -> None:
    response = client.get("/usage", params=params)
    assert response.status_code == 200
    assert f"per {params['period']}, by {params['stack']}" in response.text


@pytest.mark.parametrize("params", [{"period": "year"}, {"stack": "colour"}, {"after": "soon"}])
def test_usage_with_a_bad_choice_is_a_400(client: TestClient, params: dict[str, str]) -> None:
    assert client.get("/usage", params=params).status_code == 400


@pytest.mark.parametrize(
    ("page", "escaped"),
    [
        ("/", "&lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt;"),
        ("/?text=alert", "&lt;img src=x onerror=<mark>alert</mark>(1)&gt;"),
        ("/s/{xss}", "&lt;img src=x onerror=alert(1)&gt;"),
        ("/s/{xss}/turns", "&lt;svg onload=alert(2)&gt;"),
        ("/s/{xss}/lineage", "desc &lt;script&gt;"),
        ("/usage?stack=tag&last=all", "xss-&lt;b&gt;"),
    ],
)
def test_stored_markup_is_shown_as_text(
    client: TestClient, ids: dict[str, str], page: str, escaped: str
) -> None:
    html = client.get(page.format(xss=ids["xss"])).text
    assert escaped in html
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "<svg onload" not in html
    assert "<b>" not in html
    assert 'href="javascript' not in html


def test_the_xss_session_shows_the_payload_as_text(client: TestClient, ids: dict[str, str]) -> None:
    html = client.get(f"/s/{ids['xss']}").text
    visible = XSS_TEXT_VISIBLE.replace("<", "&lt;").replace(">", "&gt;").replace("'", "&#39;")
    assert html.count(visible) >= 3  # the prompt, the answer, the tool call and its output
    assert "[click me](javascript:alert(3))" in html  # not a link, the text as written


def test_pages_load_only_local_assets(client: TestClient, ids: dict[str, str]) -> None:
    html = client.get(f"/s/{ids['auth']}").text
    assert not re.search(r'\ssrc="(?!/static/|data:image/)', html)
    assets = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html)
    assert assets and all(a.startswith("/static/") for a in assets)
    for asset in assets:
        assert client.get(asset).status_code == 200
    assert "<script>" not in html and " style=" not in html


def test_real_transcripts_read_right(tmp_path: Path) -> None:
    """Claude Code's own transcripts (the third-party fixtures): a response split over entries
    reads as one reply, a Task call holds its subagent, a subagent no call names comes at the
    end, a compaction shows as a marker."""
    with SessionStore(tmp_path / "s", cleanup_after_days=None) as store:
        import_transcripts(store, [REAL_TRANSCRIPTS])
        client = TestClient(create_app(store))
        data = store.load_session(WITH_SUBAGENT, subagents=True)
        found = join_replies(build_conversation(data.messages, data.subagents))
        html = client.get(f"/s/{WITH_SUBAGENT}").text
        reply = next(t for t in found.turns if t.joined_uuids)  # each entry keeps its anchor
        start = html.index(f'id="m-{reply.uuid}"')
        joined = html.index(f'id="m-{reply.joined_uuids[-1]}"')
        assert start < joined < html.index("</article>", start)
        nested = next(b.subagent for b in found.blocks() if b.subagent)
        assert f"Subagent transcript · {len(nested.turns)} exchanges" in html
        assert html.index('<section class="unlinked">') > html.rindex(" data-index=")
        assert "Subagent <code>subagents/agent-acompact-946d2b</code>" in html
        meta = data.metadata
        assert meta.subagent_cost > 0
        shown = (
            f"<dt>Subagents</dt><dd>{meta.subagent_input_tokens:,} in · "
            f"{meta.subagent_output_tokens:,} out · ${meta.subagent_cost:.2f} "
        )
        assert shown in html and repr(meta.subagent_cost) not in html  # no raw floats
        html = client.get(f"/s/{WITH_COMPACTION}").text
        assert "Conversation compacted (auto, 167,731 tokens before)" in html
        assert "Summary of the earlier conversation (compacted)" in html
