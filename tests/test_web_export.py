"""The HTML export is the web app's session page in one file: the same parts, the same styles,
nothing to fetch and nothing to run."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner
from starlette.testclient import TestClient

from claude_sessions import SessionStore
from claude_sessions.cli import cli
from claude_sessions.importer import import_transcripts
from claude_sessions.web import create_app

REAL_TRANSCRIPTS = Path(__file__).parent / "fixtures" / "transcripts" / "projects"
WITH_SUBAGENT = "ae4a77f8-aedd-4bc1-888f-c94edc91af04"
STATIC = Path(__file__).parent.parent / "src" / "claude_sessions" / "web" / "static"


def exported(tmp_path: Path) -> tuple[str, str, str]:
    """The session with a subagent: its page, its download and its ``export --format html``."""
    location = tmp_path / "store"
    with SessionStore(location, cleanup_after_days=None) as store:
        import_transcripts(store, [REAL_TRANSCRIPTS])
        client = TestClient(create_app(store))
        page = client.get(f"/s/{WITH_SUBAGENT}").text
        download = client.get(f"/s/{WITH_SUBAGENT}/download/html").text
    target = tmp_path / "session.html"
    args = ["export", WITH_SUBAGENT[:8], "--format", "html", "-o", str(target)]
    result = CliRunner().invoke(cli, [*args, "--store", str(location)])
    assert result.exit_code == 0, result.output
    return page, download, target.read_text()


def parts(html: str) -> list[str]:
    """The conversation's elements, as (tag, class, id) in order."""
    chat = html[html.index('<div id="turns"') : html.index('<aside class="panel"')]
    return re.findall(r'<(article|details|pre|img) class="([^"]*)"(?: id="([^"]*)")?', chat)


def test_the_export_is_the_session_page_in_one_file(tmp_path: Path) -> None:
    page, download, export = exported(tmp_path)
    assert parts(export) == parts(page) and len(parts(page)) > 50
    assert download == export
    for sheet in ("app.css", "pygments.css"):
        assert (STATIC / sheet).read_text() in export
    assert "<script" not in export and "<link" not in export
    assert not re.search(r'\bsrc="(?!data:)', export)  # images inline, nothing else loaded
    assert (
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:\">" in export
    )
    panel = page[page.index('<dl id="facts"') : page.index("</dl>", page.index('<dl id="facts"'))]
    assert panel in export  # the same figures
