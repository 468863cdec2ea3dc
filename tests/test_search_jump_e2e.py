"""In Chromium: a search result found in a tool result links to its message, and
following the link scrolls to it and marks the words (the real fixtures)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from claude_sessions import SessionStore
from claude_sessions.importer import import_transcripts
from claude_sessions.store.search_index import update_search_index
from claude_sessions.web import create_app

from . import test_web_e2e
from .fixture_words import FIXTURES, only_in, words_by_place
from .test_web_e2e import Watched
from .web_server import running

pytestmark = pytest.mark.browser
browser = test_web_e2e.browser  # the fixtures, shared
tab = test_web_e2e.tab


def test_a_match_in_a_tool_result_links_to_it_and_is_marked(tab: Watched, tmp_path: Path) -> None:
    root = tmp_path / "config"
    shutil.copytree(FIXTURES / "projects", root / "projects")
    found = words_by_place()
    word = only_in(found, "tool", set())
    with SessionStore(tmp_path / "store", cleanup_after_days=None) as store:
        import_transcripts(store, [root])
        update_search_index(store)
        (first, *_) = store.search(text=word, places=["tool"])
        assert first.match_uuid and first.match_where.startswith("tool")
        with running(create_app(store)) as server:
            page = tab.page
            page.goto(f"{server.url}/?text={word}&in=tool")
            link = page.locator("a.match").first
            assert link.inner_text() == first.match_where
            link.click()
            page.wait_for_url(f"**/s/{first.session_id}?q={word}#m-{first.match_uuid}")
            page.wait_for_selector("mark.hit", timeout=15_000)
            marked = page.evaluate(
                """(uuid) => {
                    const marks = Array.from(document.querySelectorAll("mark.hit"));
                    const target = document.getElementById("m-" + uuid);
                    const first = marks[0].getBoundingClientRect();
                    return {
                        words: marks.map(mark => mark.textContent.toLowerCase()),
                        targetShown: target !== null,
                        firstOnScreen: first.top >= 0 && first.bottom <= window.innerHeight,
                    };
                }""",
                first.match_uuid,
            )
    assert marked["targetShown"] and marked["firstOnScreen"]
    assert marked["words"] and set(marked["words"]) == {word}
    assert not tab.errors
