"""Signing in and out of ``serve --auth`` in a real headless Chromium (Debian's, at
/usr/bin/chromium): the form, the cookie it sets (HttpOnly, SameSite=Strict, out of the
page's reach), and signing out."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from claude_sessions import SessionStore

from .auth_server import Server, add_user, start
from .test_web_e2e import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS_ENV, VIEWPORT
from .web_samples import populate

pytestmark = pytest.mark.browser


@pytest.fixture
def signed_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Server, str]]:
    location = str(tmp_path / "store")
    monkeypatch.setenv("CLAUDE_SESSIONS_USER", "alice")  # her sessions: a member sees her own
    with SessionStore(location, cleanup_after_days=None) as store:
        populate(store)
    monkeypatch.delenv("CLAUDE_SESSIONS_USER")
    token = add_user(location, "alice")
    server = start(location, "--auth")
    try:
        yield server, token
    finally:
        server.process.kill()
        server.process.wait()


@pytest.fixture
def page() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(viewport=VIEWPORT)
        yield context.new_page()
        context.close()
        browser.close()


def _shot(page: Any, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path))
    keep = os.environ.get(SCREENSHOTS_ENV)
    if keep:
        page.screenshot(path=str(Path(keep) / f"{name}.png"))
    return path


def _sign_in_cookie(page: Any) -> dict[str, Any] | None:
    found = [c for c in page.context.cookies() if c["name"] == "claude_sessions_signin"]
    return found[0] if found else None


def test_sign_in_and_out_in_a_browser(
    signed_server: tuple[Server, str], page: Any, tmp_path: Path
) -> None:
    server, token = signed_server
    base = f"http://127.0.0.1:{server.port}"
    page.goto(f"{base}/usage")
    assert page.url.startswith(f"{base}/sign-in?next=")
    assert page.locator("h1").inner_text() == "Sign in"
    shot = _shot(page, tmp_path, "sign-in")
    assert shot.stat().st_size > 5000
    assert page.locator(".store").count() == 0  # where the store is, not told to nobody

    page.fill("input[name=name]", "alice")
    page.fill("input[name=token]", token + "x")
    page.click("button[type=submit]")
    assert "Wrong user name or token" in page.locator("[role=alert]").inner_text()
    assert _sign_in_cookie(page) is None

    page.fill("input[name=token]", token)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/usage")
    assert page.locator(".signed-in").inner_text() == "alice"
    _shot(page, tmp_path, "signed-in")
    cookie = _sign_in_cookie(page)
    assert cookie is not None
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
    assert cookie["secure"] is False  # plain http here; Secure behind TLS
    assert "claude_sessions_signin" not in page.evaluate("document.cookie")
    page.goto(f"{base}/")
    assert page.locator("table.sessions").count() == 1

    page.click(".sign-out button")
    page.wait_for_url(f"{base}/sign-in")
    assert _sign_in_cookie(page) is None
    page.goto(f"{base}/")
    assert page.url.startswith(f"{base}/sign-in?next=")
