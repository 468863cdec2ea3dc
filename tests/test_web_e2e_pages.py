"""The usage page, a search result's jump to its message and the HTML export, in a real
headless Chromium (the browser and tab of ``test_web_e2e``), looked at as a reader sees them."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from claude_sessions import SessionStore
from claude_sessions.web import create_app

from . import test_web_e2e
from .test_web_e2e import SCREENSHOTS_ENV, Watched
from .test_web_usage import costly_and_wordy
from .web_server import running

pytestmark = pytest.mark.browser
browser = test_web_e2e.browser  # the fixtures, shared
tab = test_web_e2e.tab


def keep_screenshot(page: Any, name: str, tmp_path: Path) -> Path:
    """A picture of the page (in ``$CLAUDE_SESSIONS_SCREENSHOTS`` too, when set)."""
    target = tmp_path / name
    page.screenshot(path=str(target), full_page=True)
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
                """() => Array.from(document.querySelectorAll("figure.chart")).map(figure =>
                    Object.fromEntries(Array.from(figure.querySelectorAll(".legend li"))
                        .map(li => [li.textContent.trim(),
                            getComputedStyle(li.querySelector("rect")).fill])))"""
            )
            bar_colours = page.evaluate(
                """() => Array.from(document.querySelectorAll("figure.chart")).map(figure =>
                    Object.fromEntries(Array.from(figure.querySelectorAll("svg.chart-svg rect.bar"))
                        .map(bar => [bar.querySelector("title").textContent.split(" · ")[1]
                            .split(":")[0], getComputedStyle(bar).fill])))"""
            )
            keep_screenshot(page, "usage-colours.png", tmp_path)
    stacked = [chart for chart in colours if len(chart) == 2]
    assert len(stacked) >= 2
    assert all(chart == stacked[0] for chart in stacked)
    assert len(set(stacked[0].values())) == 2  # two models, two colours
    assert all(chart == stacked[0] for chart in bar_colours if len(chart) == 2)
    assert not tab.errors
