"""A link to one message of a session (``/s/<id>?q=WORDS#m-<uuid>``, a search result's): every
message the page shows has that anchor, a long session's piece reaches it in one request, and
the page carries the search's words to mark."""

from __future__ import annotations

import json
import re
from pathlib import Path

from starlette.testclient import TestClient

from claude_sessions import SessionStore
from claude_sessions.importer import import_transcripts
from claude_sessions.web import create_app

from .web_samples import long_session, sid

REAL_TRANSCRIPTS = Path(__file__).parent / "fixtures" / "transcripts" / "projects"
WITH_SUBAGENT = "ae4a77f8-aedd-4bc1-888f-c94edc91af04"


def shown_messages(path: Path) -> set[str]:
    """The uuids of the entries a reader sees as messages: prompts, replies and tool
    results (the bookkeeping entries, meta prompts and blank texts aside)."""
    found = set()
    for line in path.read_text().splitlines():
        entry = json.loads(line)
        content = (entry.get("message") or {}).get("content")
        if entry.get("type") not in ("user", "assistant") or entry.get("isMeta"):
            continue
        said = isinstance(content, str) and content.strip()
        if said or (
            isinstance(content, list)
            and any(
                isinstance(b, dict)
                and (b.get("type") in ("tool_use", "tool_result") or str(b.get("text", "")).strip())
                for b in content
            )
        ):
            found.add(entry["uuid"])
    return found


def test_every_message_of_a_real_session_has_its_anchor(tmp_path: Path) -> None:
    folder = next(REAL_TRANSCRIPTS.glob(f"*/{WITH_SUBAGENT}.jsonl")).parent
    main = shown_messages(folder / f"{WITH_SUBAGENT}.jsonl")
    subagent = shown_messages(folder / WITH_SUBAGENT / "subagents" / "agent-aac57f5.jsonl")
    assert main and subagent
    with SessionStore(tmp_path / "s", cleanup_after_days=None) as store:
        import_transcripts(store, [REAL_TRANSCRIPTS])
        html = TestClient(create_app(store)).get(f"/s/{WITH_SUBAGENT}").text
    ids = re.findall(r'\bid="m-([^"]+)"', html)
    assert len(ids) == len(set(ids))  # one element each
    assert main - set(ids) == set()
    assert subagent - set(ids) == set()


def test_a_piece_reaches_the_message_a_link_names(tmp_path: Path) -> None:
    entries = long_session(sid(9), 110)  # four entries a step: prompt, call, result, reply
    result = entries[4 * 80 + 2]  # step 80's tool result: turn 242 of 330
    assert result["message"]["content"][0]["type"] == "tool_result"
    with SessionStore(tmp_path / "s", cleanup_after_days=None) as store:
        store.save_session(sid(9), entries)
        client = TestClient(create_app(store))
        first = client.get(f"/s/{sid(9)}").text
        plain = client.get(f"/s/{sid(9)}/turns", params={"start": 100}).text
        reaching = client.get(
            f"/s/{sid(9)}/turns", params={"start": 100, "at": result["uuid"]}
        ).text
    anchor = f'id="m-{result["uuid"]}"'
    assert anchor not in first and anchor not in plain
    assert anchor in reaching
    indexes = [int(n) for n in re.findall(r' data-index="(\d+)"', reaching)]
    assert indexes == list(range(100, 300))  # whole pieces, from where the page stopped
    assert 'href="/s/' + sid(9) + '/turns?start=300"' in reaching
    position = reaching.index(anchor)  # at the call its result answers
    assert "make step-80" in reaching[reaching.rindex("<article", 0, position) : position + 2000]


def test_the_page_carries_the_words_of_the_search(tmp_path: Path) -> None:
    with SessionStore(tmp_path / "s", cleanup_after_days=None) as store:
        store.save_session(sid(9), long_session(sid(9), 2))
        client = TestClient(create_app(store))
        asked = client.get(f"/s/{sid(9)}", params={"q": '"Make STEP-1" OR build*'}).text
        refused = client.get(f"/s/{sid(9)}", params={"q": "(("}).text
        plain = client.get(f"/s/{sid(9)}").text
    assert 'data-words="make step 1 build"' in asked
    assert "data-words" not in refused and "data-words" not in plain
