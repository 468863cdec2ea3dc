"""The web app in a real headless Chromium (Debian's, at /usr/bin/chromium), against the real
server: what a reader does, and what an attacker's payload must not do."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from claude_sessions import SessionStore
from claude_sessions.model.identity import MACHINE_ENV_VAR, USER_ENV_VAR
from claude_sessions.store.search_index import update_search_index
from claude_sessions.web import create_app

from .web_samples import XSS_TEXT_VISIBLE, Transcript, long_session, populate, sid
from .web_server import Running, running

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}
# Set to a directory (docs/screenshots) to keep the pages' pictures there too.
SCREENSHOTS_ENV = "CLAUDE_SESSIONS_SCREENSHOTS"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="claude-sessions-chromium-")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport=VIEWPORT,
        )
        yield context
        context.close()
    shutil.rmtree(profile, ignore_errors=True)


class Watched:
    """A page, with every dialog and console error it raised."""

    def __init__(self, context: Any) -> None:
        context.clear_cookies()
        self.page = context.new_page()
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.page.on("dialog", self._dialog)
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(message.text)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[SessionStore, dict[str, str], Running]]:
    with SessionStore(tmp_path / "store", cleanup_after_days=None) as store:
        ids = populate(store)
        with running(create_app(store)) as server:
            yield store, ids, server


@pytest.fixture
def tab(browser: Any) -> Iterator[Watched]:
    watched = Watched(browser)
    yield watched
    watched.page.close()


def test_list_search_and_open_with_the_keyboard(site: Any, tab: Watched) -> None:
    _store, ids, server = site
    page = tab.page
    page.goto(server.url + "/")
    assert page.locator("table.sessions tbody tr").count() == len(ids)
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "search"
    page.keyboard.type("limiter")
    page.keyboard.press("Enter")
    page.wait_for_url("**/?text=limiter")
    assert page.locator(".snippet mark").first.inner_text() == "limiter"
    page.locator("body").click(position={"x": 5, "y": 300})
    page.keyboard.press("j")
    assert page.locator("tr.selected").count() == 1
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/s/{ids['auth']}")
    assert page.locator("h1").inner_text() == "Login rate limit"
    assert not tab.errors and not tab.dialogs


def test_filters_stay_in_the_url(site: Any, tab: Watched) -> None:
    _store, _ids, server = site
    page = tab.page
    page.goto(server.url + "/")
    page.locator("details.more-filters summary").click()
    page.fill("input[name=tags]", "auth")
    page.fill("input[name=model]", "sonnet")
    page.locator("button[type=submit]").first.click()
    page.wait_for_url("**/?tags=auth&model=sonnet")  # empty fields left out
    assert page.locator("table.sessions tbody tr").count() == 3


def test_tool_calls_and_long_outputs_unfold(site: Any, tab: Watched) -> None:
    _store, ids, server = site
    page = tab.page
    page.goto(f"{server.url}/s/{ids['auth']}")
    call = page.locator("details.tool").filter(has_text="pytest tests/test_cart.py")
    output = call.locator("pre.output").first
    assert not output.is_visible()
    call.locator("summary").first.click()
    assert output.is_visible()
    assert "test_case_019 PASSED" in output.inner_text()
    hidden = call.locator("details.more-lines pre.output")
    assert not hidden.is_visible()
    call.get_by_text("show 40 more lines").click()
    assert hidden.is_visible() and "test_case_059 PASSED" in hidden.inner_text()
    assert not tab.errors


def test_tags_added_and_removed_are_stored(site: Any, tab: Watched) -> None:
    store, ids, server = site
    page = tab.page
    page.goto(f"{server.url}/s/{ids['design']}")
    page.fill("form.add-tags input[name=tags]", "reviewed")
    page.locator("form.add-tags button").click()
    page.wait_for_load_state()
    assert page.locator(".tag-list .tag", has_text="reviewed").count() == 1
    assert "reviewed" in store.get_metadata(ids["design"]).tags
    page.get_by_label("Remove tag design").click()
    page.wait_for_load_state()
    assert page.locator(".tag-list .tag", has_text="design").count() == 0
    assert store.get_metadata(ids["design"]).tags == ("reviewed",)
    page.fill("form.describe textarea", "Header work")
    page.locator("form.describe button").click()
    page.wait_for_load_state()
    assert store.get_metadata(ids["design"]).description == "Header work"
    assert not tab.errors


def test_a_post_without_the_csrf_token_is_refused(site: Any, tab: Watched) -> None:
    store, ids, server = site
    page = tab.page
    page.goto(f"{server.url}/s/{ids['design']}")
    status = page.evaluate(
        """url => fetch(url, {method: "POST", body: new URLSearchParams({tags: "forged"})})
                   .then(response => response.status)""",
        f"/s/{ids['design']}/tags",
    )
    assert status == 403
    assert "forged" not in store.get_metadata(ids["design"]).tags


def test_fork_links_and_the_lineage_graph(site: Any, tab: Watched) -> None:
    _store, ids, server = site
    page = tab.page
    page.goto(f"{server.url}/s/{ids['auth']}")
    page.locator(f'.lineage-panel .forks a[href="/s/{ids["fork"]}"]').click()
    page.wait_for_url(f"**/s/{ids['fork']}")
    page.locator(".lineage-panel a", has_text="Login rate limit").click()
    page.wait_for_url(f"**/s/{ids['auth']}")
    page.locator(".lineage-panel a", has_text="Fork tree").click()
    page.wait_for_url(f"**/s/{ids['auth']}/lineage")
    assert page.locator("svg.lineage g.node").count() == 3
    page.locator(f'svg.lineage a[href="/s/{ids["fork2"]}"]').click()
    page.wait_for_url(f"**/s/{ids['fork2']}")
    assert not tab.errors


def test_an_xss_payload_neither_runs_nor_disappears(site: Any, tab: Watched) -> None:
    _store, ids, server = site
    page = tab.page
    for path in (f"/s/{ids['xss']}", f"/s/{ids['xss']}/lineage", "/?text=alert", "/usage?last=all"):
        page.goto(server.url + path)
        page.wait_for_load_state("networkidle")
    page.goto(f"{server.url}/s/{ids['xss']}")
    page.locator("details.tool summary").first.click()
    text = page.locator("#turns").inner_text()
    assert text.count(XSS_TEXT_VISIBLE) >= 3
    assert "[click me](javascript:alert(3))" in text
    assert page.locator("#turns img").count() == 0  # the payload's <img> is text
    assert page.evaluate("window.xssRan === undefined")
    assert tab.dialogs == []
    assert tab.errors == []  # no CSP violation either: nothing tried to run


def test_a_long_session_loads_as_the_reader_scrolls(tmp_path: Path, tab: Watched) -> None:
    with SessionStore(tmp_path / "store", cleanup_after_days=None) as store:
        store.save_session(sid(7), long_session(sid(7), 110))  # 330 turns
        with running(create_app(store)) as server:
            page = tab.page
            page.goto(f"{server.url}/s/{sid(7)}")
            turns = page.locator("#turns .turn[data-index]")
            assert turns.count() == 100
            for _ in range(20):
                page.mouse.wheel(0, 30000)
                if turns.count() == 330:
                    break
                time.sleep(0.2)
            assert turns.count() == 330
            assert page.get_by_text("Step 109 passed.").is_visible()
            assert not tab.errors


def test_live_updates_without_reload(site: Any, tab: Watched) -> None:
    store, ids, server = site
    page = tab.page
    page.goto(f"{server.url}/s/{ids['design']}")
    page.evaluate("window.notReloaded = true")
    more = Transcript(ids["design"], cwd="/home/alice/work/site")
    more._n = 700
    more.user("Now make the header sticky")
    more.say("Done: `position: sticky` with a shadow once scrolled.")
    time.sleep(0.5)  # the page's stream is connected
    started = time.monotonic()
    store.append_messages(ids["design"], more.entries)
    page.get_by_text("Done: position: sticky").wait_for(timeout=2500)
    assert time.monotonic() - started < 2.5
    assert page.evaluate("window.notReloaded") is True
    page.locator("#facts", has_text="Messages").wait_for()
    assert page.locator("#facts").inner_text().count("7") >= 1

    page.goto(server.url + "/")
    page.evaluate("window.notReloaded = true")
    fresh = Transcript(sid(60), cwd="/home/alice/work/new")
    fresh.user("A brand new session arrives")
    fresh.say("Hello")
    time.sleep(0.5)
    store.save_session(sid(60), fresh.entries)
    page.locator("a.title", has_text="A brand new session arrives").wait_for(timeout=2500)
    assert page.evaluate("window.notReloaded") is True
    assert not tab.errors


def test_a_subagent_written_into_the_main_transcript_unfolds_under_its_call(
    tmp_path: Path, tab: Watched
) -> None:
    """A real Claude Code 1.0.108 transcript (tests/fixtures/transcripts/sample-project):
    its subagents' conversations sit folded inside their Task calls, not in the chat."""
    from claude_sessions.importer import import_transcripts

    session = "5c0375b4-57a5-4f26-b12d-d022ee4e51b7"
    prompt = "Examine the package.json file(s) in /path/to/Demo and any subdirectories."
    projects = Path(__file__).parent / "fixtures" / "transcripts" / "projects"
    root = tmp_path / "config" / "projects" / "sample-project"
    root.mkdir(parents=True)
    shutil.copy(projects / "sample-project" / f"{session}.jsonl", root)
    with SessionStore(tmp_path / "store", cleanup_after_days=None) as store:
        import_transcripts(store, [root.parent.parent])
        with running(create_app(store)) as server:
            page = tab.page
            page.goto(f"{server.url}/s/{session}")
            yours = page.locator("#turns .turn.user[data-index]")  # the chat's own prompts
            assert yours.count() > 0 and yours.filter(has_text=prompt).count() == 0
            call = page.locator("details.tool").filter(has_text="Check package configuration")
            subagent = call.locator("details.subagent").first
            task = subagent.locator(".turn.user").first
            assert not task.is_visible()
            call.locator("summary").first.click()
            subagent.locator("summary").first.click()
            assert task.is_visible() and prompt in task.inner_text()
            subagent.evaluate("e => { e.scrollIntoView(); window.scrollBy(0, -160); }")
            target = tmp_path / "sidechain.png"
            page.screenshot(path=str(target))
            assert target.read_bytes().startswith(b"\x89PNG")
            assert not tab.errors


def test_screenshots(tab: Watched, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The sessions' user and machine, as a teammate's would read: not this machine's.
    monkeypatch.setenv(USER_ENV_VAR, "alice")
    monkeypatch.setenv(MACHINE_ENV_VAR, "laptop")
    store = SessionStore(tmp_path / "store", cleanup_after_days=None)
    ids = populate(store, hostile=False)
    update_search_index(store)
    with store, running(create_app(store)) as server:
        take_screenshots(tab, ids, server.url, tmp_path)


def take_screenshots(tab: Watched, ids: dict[str, str], url: str, tmp_path: Path) -> None:
    page = tab.page
    shots = {
        "sessions.png": "/",
        "session.png": f"/s/{ids['auth']}",
        "usage.png": "/usage?last=all",
        "lineage.png": f"/s/{ids['auth']}/lineage",
        "search.png": "/?text=LoginForm+OR+nginx+OR+header",  # said in prompts and tools
    }
    keep = os.environ.get(SCREENSHOTS_ENV)
    for name, path in shots.items():
        page.goto(url + path)
        if name == "session.png":
            page.locator("details.tool").first.locator("summary").first.click()
        page.wait_for_load_state("networkidle")
        target = tmp_path / name
        page.screenshot(path=str(target))
        data = target.read_bytes()
        assert data.startswith(b"\x89PNG") and 10_000 < len(data) < 600_000
        if keep and name in ("sessions.png", "session.png", "usage.png", "search.png"):
            Path(keep).mkdir(parents=True, exist_ok=True)
            shutil.copy(target, Path(keep) / name)
    assert not tab.errors


def test_commands_their_output_and_folded_reminders(tab: Watched, tmp_path: Path) -> None:
    """A real transcript (spotter's tool_heavy): ``/mcp`` as typed with its output, and the
    system reminders of Read results folded under a label until opened."""
    from claude_sessions.importer import import_transcripts

    fixtures = Path(__file__).parent / "fixtures" / "transcripts" / "projects"
    session = "d6e0bada-1959-4eec-a9d2-0bfade768d8f"
    with SessionStore(tmp_path / "store", cleanup_after_days=None) as store:
        import_transcripts(store, [fixtures])
        with running(create_app(store)) as server:
            page = tab.page
            page.goto(f"{server.url}/s/{session}")
            command = page.locator(".command code", has_text="/mcp")
            command.scroll_into_view_if_needed()
            assert command.inner_text() == "/mcp"
            output = page.locator(".command-output pre.output").first
            assert output.is_visible() and output.inner_text().startswith("Reconnected")
            page.wait_for_load_state("networkidle")
            shot(page, tmp_path, "session-command.png")
            read = page.locator("details.tool", has=page.locator(".reminder")).first
            read.locator("summary").first.click()
            reminder = read.locator("details.reminder")
            reminder.scroll_into_view_if_needed()
            assert reminder.locator("summary").inner_text().startswith("System reminder")
            assert not reminder.locator("pre").is_visible()
            shot(page, tmp_path, "session-reminder-folded.png")
            reminder.locator("summary").click()
            assert "malware" in reminder.locator("pre").inner_text()
            shot(page, tmp_path, "session-reminder-open.png")
            assert not tab.errors


def shot(page: Any, tmp_path: Path, name: str) -> None:
    """A screenshot of what the reader sees, kept in $CLAUDE_SESSIONS_SCREENSHOTS if set."""
    target = tmp_path / name
    page.screenshot(path=str(target))
    assert target.read_bytes().startswith(b"\x89PNG")
    keep = os.environ.get(SCREENSHOTS_ENV)
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(target, Path(keep) / name)


def test_an_edit_shows_as_a_diff(tab: Watched, tmp_path: Path) -> None:
    """A real transcript (sample-project's Demo): a subagent's Edit of page.tsx, open as a
    diff whose removed lines are the old string's, and added lines the new one's."""
    import json

    from claude_sessions.importer import import_transcripts

    session = "fe5e1c67-53e7-4862-81ae-d0e013e3270b"
    source = Path(__file__).parent / "fixtures" / "transcripts" / "projects" / "sample-project"
    root = tmp_path / "config" / "projects" / "sample-project"
    root.mkdir(parents=True)
    shutil.copy(source / f"{session}.jsonl", root)
    lines = [json.loads(line) for line in (root / f"{session}.jsonl").read_text().splitlines()]
    edit = next(
        item["input"]
        for line in lines
        if isinstance(line.get("message", {}).get("content"), list)
        for item in line["message"]["content"]
        if item.get("type") == "tool_use" and item.get("name") == "Edit"
    )
    with SessionStore(tmp_path / "store", cleanup_after_days=None) as store:
        import_transcripts(store, [root.parent.parent])
        with running(create_app(store)) as server:
            page = tab.page
            page.goto(f"{server.url}/s/{session}")
            call = page.locator("details.tool").filter(has_text="Setup Next.js project").first
            call.locator("summary").first.click()
            call.locator("details.subagent summary").first.click()
            diff = call.locator("details.tool[open] .file-change .diff").first
            diff.scroll_into_view_if_needed()
            assert diff.is_visible()
            removed = [t[1:] for t in diff.locator(".gd").all_inner_texts() if t[:3] != "---"]
            added = [t[1:] for t in diff.locator(".gi").all_inner_texts() if t[:3] != "+++"]
            assert removed and set(removed) <= set(edit["old_string"].splitlines())
            assert added and set(added) <= set(edit["new_string"].splitlines())
            colour = diff.locator(".gi").nth(1).evaluate("e => getComputedStyle(e).color")
            assert colour == "rgb(0, 132, 0)"  # pygments.css: .gi { color: #008400 }
            diff.evaluate("e => { e.scrollIntoView(); window.scrollBy(0, -120); }")
            shot(page, tmp_path, "session-edit-diff.png")
            assert not tab.errors
