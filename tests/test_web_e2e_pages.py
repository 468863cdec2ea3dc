"""The usage page, a search result's jump to its message and the HTML export, in a real
headless Chromium (the browser and tab of ``test_web_e2e``), looked at as a reader sees them."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from claude_sessions import SessionStore
from claude_sessions.importer import import_transcripts
from claude_sessions.web import create_app

from . import test_web_e2e
from .test_web_e2e import SCREENSHOTS_ENV, Watched
from .test_web_usage import costly_and_wordy
from .web_samples import long_session, sid
from .web_server import running

pytestmark = pytest.mark.browser
browser = test_web_e2e.browser  # the fixtures, shared
tab = test_web_e2e.tab


def keep_screenshot(page: Any, name: str, tmp_path: Path, *, full_page: bool = True) -> Path:
    """A picture of the page (in ``$CLAUDE_SESSIONS_SCREENSHOTS`` too, when set)."""
    target = tmp_path / name
    page.screenshot(path=str(target), full_page=full_page)
    keep = os.environ.get(SCREENSHOTS_ENV)
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(target, Path(keep) / name)
    return target


def test_a_model_keeps_its_colour_on_every_chart(tab: Watched, tmp_path: Path) -> None:
    with SessionStore(tmp_path / "store", cleanup_after_days=None) as store:
        costly_and_wordy(store)
        with running(create_app(store)) as server:
            page = tab.page
            page.goto(f"{server.url}/usage?last=all&stack=model")
            colours = page.evaluate(
                """() => Array.from(document.querySelectorAll("figure.chart:not(.heatmap)"))
                    .map(figure =>
                    Object.fromEntries(Array.from(figure.querySelectorAll(".legend li"))
                        .map(li => [li.textContent.trim(),
                            getComputedStyle(li.querySelector("rect")).fill])))"""
            )
            bar_colours = page.evaluate(
                """() => Array.from(document.querySelectorAll("figure.chart:not(.heatmap)"))
                    .map(figure =>
                    Object.fromEntries(Array.from(figure.querySelectorAll("svg.chart-svg rect.bar"))
                        .map(bar => [bar.querySelector("title").textContent.split(" · ")[1]
                            .split(":")[0], getComputedStyle(bar).fill])))"""
            )
            cells = page.locator("figure.heatmap svg.chart-svg rect.cell")
            assert cells.count() == 7 * 24
            busiest = page.locator("figure.heatmap svg.chart-svg rect.cell.h4")
            assert busiest.count() == 1 and "Mon 09: 2 sessions" in busiest.text_content()
            keep_screenshot(page, "usage-colours.png", tmp_path)
    stacked = [chart for chart in colours if len(chart) == 2]
    assert len(stacked) == 3  # cost, tokens, sessions
    assert all(chart == stacked[0] for chart in stacked)
    assert len(set(stacked[0].values())) == 2  # two models, two colours
    assert all(chart == stacked[0] for chart in bar_colours if len(chart) == 2)
    assert not tab.errors


def test_a_search_result_link_scrolls_to_and_marks_the_match(tab: Watched, tmp_path: Path) -> None:
    entries = long_session(sid(9), 110)  # 330 turns, shown 100 at a time
    result = entries[4 * 80 + 2]  # step 80's tool result, in turn 242
    assert result["message"]["content"][0]["content"] == "step 80 ok\n" * 3
    with SessionStore(tmp_path / "store", cleanup_after_days=None) as store:
        store.save_session(sid(9), entries)
        with running(create_app(store)) as server:
            page = tab.page
            page.goto(f"{server.url}/s/{sid(9)}?q=step-80#m-{result['uuid']}")
            page.wait_for_selector("mark.hit", timeout=15_000)
            found = page.evaluate(
                """() => {
                    const marks = Array.from(document.querySelectorAll("mark.hit"));
                    const first = marks[0].getBoundingClientRect();
                    const block = document.querySelector(".found");
                    return {
                        words: marks.map(mark => mark.textContent),
                        inBlock: marks.every(mark => block.contains(mark)),
                        blockIsTheCall: block.matches("details.tool") && block.open,
                        firstOnScreen: first.top >= 0 && first.bottom <= window.innerHeight,
                        turns: document.querySelectorAll("#turns .turn[data-index]").length,
                    };
                }"""
            )
            keep_screenshot(page, "session-jump.png", tmp_path, full_page=False)
    # "make step-80" in the call's summary and arguments, "step 80 ok" thrice in its result
    assert sorted(found["words"]) == sorted(["step", "80"] * 5)
    assert found["inBlock"] and found["blockIsTheCall"] and found["firstOnScreen"]
    assert found["turns"] == 300  # the pieces up to the match, in one request
    assert not tab.errors


STYLED = ("body", ".session-head h1", ".turn.user .bubble", "details.tool > summary", ".facts dt")
LOOKS = """selectors => selectors.map(selector => {
    const style = getComputedStyle(document.querySelector(selector));
    return [style.color, style.backgroundColor, style.fontFamily, style.fontSize].join(" | ");
})"""


def test_the_export_opens_offline_with_scripts_off(tab: Watched, tmp_path: Path) -> None:
    """From file://, JavaScript off: it looks as the web page does, asks for nothing, and a
    tool call still unfolds."""
    from .test_web_export import REAL_TRANSCRIPTS, WITH_SUBAGENT

    with SessionStore(tmp_path / "store", cleanup_after_days=None) as store:
        import_transcripts(store, [REAL_TRANSCRIPTS])
        with running(create_app(store)) as server:
            page = tab.page
            page.goto(f"{server.url}/s/{WITH_SUBAGENT}")
            served = page.evaluate(LOOKS, list(STYLED))
            export = tmp_path / "session.html"
            export.write_bytes(
                page.request.get(f"{server.url}/s/{WITH_SUBAGENT}/download/html").body()
            )
    offline = tab.page.context.new_page()
    requests: list[str] = []
    offline.on("request", lambda request: requests.append(request.url))
    cdp = offline.context.new_cdp_session(offline)
    cdp.send("Emulation.setScriptExecutionDisabled", {"value": True})
    offline.goto(export.as_uri())
    assert offline.evaluate(LOOKS, list(STYLED)) == served
    tool = offline.locator("details.tool").first
    assert not tool.locator(".tool-body").is_visible()
    tool.locator("summary").first.click()
    assert tool.locator(".tool-body").is_visible()
    keep_screenshot(offline, "export-offline.png", tmp_path, full_page=False)
    assert requests == [export.as_uri()]
    offline.close()
