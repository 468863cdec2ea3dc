"""Subagent conversations older Claude Code wrote into the main transcript (its
``isSidechain`` lines) nested under the Task call that started them, in ``show``, every
export format and the web app, and counted as subagent usage; and a session known only
from a subagent's transcript. On real transcripts (tests/fixtures/transcripts: Claude
Code 1.0.98 and 1.0.108 in ``sample-project``, 2.1.39 for the subagent), through the real
importer, on both databases; expectations come from the raw lines (transcript_ledger)."""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from claude_sessions import Message, SessionStore
from claude_sessions.cli import cli
from claude_sessions.importer import import_transcripts
from claude_sessions.views.conversation import build_conversation
from claude_sessions.views.render import session_title
from claude_sessions.web import create_app

from .transcript_ledger import build_ledger

PROJECTS = Path(__file__).parent / "fixtures" / "transcripts" / "projects"
# Two subagents, and a Task call that failed before it started one.
ORCHESTRATED = "5c0375b4-57a5-4f26-b12d-d022ee4e51b7"
# Three Task calls in one reply; their subagents' conversations come in another order.
PARALLEL = "fe5e1c67-53e7-4862-81ae-d0e013e3270b"
IN_FILE = (ORCHESTRATED, PARALLEL)
WITH_SUBAGENT = "ae4a77f8-aedd-4bc1-888f-c94edc91af04"
SUBAGENT_PROJECT = "-home-marco-projects-spotter-worktrees-spotter-4te"
ENV = {"CLAUDE_SESSIONS_CLEANUP_DAYS": "never"}


# -- what the raw lines say ---------------------------------------------------------------


def raw(session_id: str) -> list[dict[str, Any]]:
    text = (PROJECTS / "sample-project" / f"{session_id}.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def task_calls(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The Task calls of the main conversation, in order."""
    return [
        block
        for entry in entries
        if entry["type"] == "assistant" and not entry.get("isSidechain")
        for block in entry["message"]["content"]
        if block.get("type") == "tool_use" and block["name"] == "Task"
    ]


def sidechain_prompts(session_id: str) -> dict[str, str]:
    """Each sidechain's prompt (its first line, a user entry with no parent) -> the id of the
    Task call whose ``prompt`` it is."""
    entries = raw(session_id)
    calls = {c["input"]["prompt"]: c["id"] for c in task_calls(entries) if "prompt" in c["input"]}
    roots = [e for e in entries if e.get("isSidechain") and e["parentUuid"] is None]
    return {root["message"]["content"]: calls[root["message"]["content"]] for root in roots}


def first_line(prompt: str) -> str:
    return prompt.split("\n", 1)[0]


def argument(line: str) -> bool:
    """Whether ``line`` is the Task call's ``prompt`` argument, as text and Markdown show it."""
    return line.startswith('  "prompt": "')


def description(session_id: str, call_id: str) -> str:
    return next(
        c["input"]["description"] for c in task_calls(raw(session_id)) if c["id"] == call_id
    )


class _Nesting(HTMLParser):
    """The text of a page, split into what stands inside ``<details class="subagent">``
    and what stands outside it."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[bool] = []  # open <details>: a subagent's or not
        self.inside: list[str] = []
        self.outside: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "details":
            classes = (dict(attrs).get("class") or "").split()
            self.stack.append("subagent" in classes)

    def handle_endtag(self, tag: str) -> None:
        if tag == "details" and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        (self.inside if any(self.stack) else self.outside).append(data)


def nesting(html: str) -> tuple[str, str]:
    parser = _Nesting()
    parser.feed(html)
    return "".join(parser.inside), "".join(parser.outside)


# -- fixtures -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ledger():
    return build_ledger(PROJECTS.parent)


@pytest.fixture
def imported(store_location: str, tmp_path: Path):
    """The sample project imported by the real importer into a store on either database."""
    root = tmp_path / "config" / "projects"
    shutil.copytree(PROJECTS / "sample-project", root / "sample-project")
    with SessionStore(store_location, cleanup_after_days=None) as store:
        import_transcripts(store, [root.parent])
        yield store, store_location


def invoke(location: str, *args: str) -> Any:
    result = CliRunner().invoke(cli, list(args), env=ENV | {"CLAUDE_SESSIONS_STORE": location})
    assert result.exit_code == 0, result.output
    return result


def test_the_fixtures_have_the_shapes_these_tests_need(ledger):
    for session_id in IN_FILE:
        assert ledger.sessions[session_id].sidechains == len(sidechain_prompts(session_id)) > 1
    # a call failed before it started its subagent: linking by order would go wrong
    assert [c for c in task_calls(raw(ORCHESTRATED)) if "prompt" not in c["input"]]
    # the sidechains come in another order than their calls
    links = list(sidechain_prompts(PARALLEL).values())
    assert links != [c["id"] for c in task_calls(raw(PARALLEL))][: len(links)]


# -- the figures ----------------------------------------------------------------------------


def test_sidechain_usage_is_subagent_usage_and_never_the_first_prompt(imported, ledger):
    store, location = imported
    listed = invoke(location, "list").stdout
    for session_id in IN_FILE:
        counted = ledger.sessions[session_id]
        meta = store.get_metadata(session_id)
        assert counted.tokens_subagents[1] > 0
        assert (meta.subagent_input_tokens, meta.subagent_output_tokens) == (
            counted.tokens_subagents
        )
        assert (meta.input_tokens, meta.output_tokens) == counted.tokens_total
        assert meta.subagent_cost == pytest.approx(counted.cost_subagents, abs=1e-9)
        assert meta.turns == counted.assistant_lines_main
        assert meta.first_prompt == counted.shown_first_prompt
        for prompt in sidechain_prompts(session_id):
            assert not session_title(meta).startswith(prompt[:40])
            assert prompt[:30] not in listed


def test_a_growing_transcript_keeps_counting_its_sidechains(store: SessionStore, tmp_path: Path):
    """Imported while Claude Code writes it: a sidechain's lines split between two imports."""
    source = PROJECTS / "sample-project" / f"{ORCHESTRATED}.jsonl"
    lines = source.read_bytes().splitlines(keepends=True)
    cut = next(n for n, line in enumerate(lines) if b'"isSidechain":true' in line) + 3
    target = tmp_path / "projects" / "sample-project" / source.name
    target.parent.mkdir(parents=True)
    target.write_bytes(b"".join(lines[:cut]))
    import_transcripts(store, [tmp_path])
    with target.open("ab") as transcript:
        transcript.write(b"".join(lines[cut:]))
    import_transcripts(store, [tmp_path])
    counted = build_ledger(tmp_path).sessions[ORCHESTRATED]
    meta = store.get_metadata(ORCHESTRATED)
    assert (meta.subagent_input_tokens, meta.subagent_output_tokens) == counted.tokens_subagents
    assert (meta.input_tokens, meta.output_tokens) == counted.tokens_total
    assert meta.turns == counted.assistant_lines_main
    assert meta.first_prompt == counted.shown_first_prompt


# -- the faces --------------------------------------------------------------------------------


def test_show_nests_each_sidechain_under_its_task_call(imported):
    _, location = imported
    for session_id in IN_FILE:
        lines = invoke(location, "show", session_id).stdout.splitlines()
        for prompt, call in sidechain_prompts(session_id).items():
            shown = [n for n, line in enumerate(lines) if first_line(prompt) in line]
            shown = [n for n in shown if not argument(lines[n])]
            assert shown and all(lines[n].startswith("   │ ") for n in shown), prompt
            arguments = lines.index(f'  "description": "{description(session_id, call)}",')
            top_level = [n for n in range(arguments, len(lines)) if lines[n].startswith("── ")]
            assert arguments < shown[0] < [*top_level, len(lines)][0]
        for n, line in enumerate(lines[:-1]):  # no sidechain prompt reads as the user's
            if line == "── User ──":
                assert not any(first_line(p) in lines[n + 1] for p in sidechain_prompts(session_id))


def test_json_lists_sidechains_with_their_call(imported):
    _, location = imported
    for session_id in IN_FILE:
        data = json.loads(invoke(location, "export", session_id, "--format", "json").stdout)
        assert not [m for m in data["messages"] if m.get("isSidechain")]
        inside = [s for s in data["subagents"] if s["subpath"] is None]
        found = {s["messages"][0]["message"]["content"]: s["tool_use_id"] for s in inside}
        assert found == sidechain_prompts(session_id)
        every = len(data["messages"]) + sum(len(s["messages"]) for s in inside)
        assert every == len(raw(session_id))


def test_markdown_and_html_nest_sidechains(imported):
    _, location = imported
    for session_id in IN_FILE:
        markdown = invoke(location, "export", session_id, "--format", "markdown").stdout
        html = invoke(location, "export", session_id, "--format", "html").stdout
        inside, outside = nesting(html)
        for prompt in sidechain_prompts(session_id):
            quoted = [line for line in markdown.splitlines() if first_line(prompt) in line]
            quoted = [line for line in quoted if not argument(line)]
            assert quoted and all(line.startswith("> ") for line in quoted), prompt
            # outside the subagent: only in the call's arguments
            assert first_line(prompt) in inside and outside.count(first_line(prompt)) == 1
        assert markdown.count("> **Subagent**") == len(sidechain_prompts(session_id))


def test_the_web_page_nests_sidechains(imported, ledger):
    store, _ = imported
    client = TestClient(create_app(store))
    for session_id in IN_FILE:
        html = client.get(f"/s/{session_id}").text
        inside, outside = nesting(html)
        for prompt in sidechain_prompts(session_id):
            # outside the subagent: only in the call's arguments
            assert first_line(prompt) in inside and outside.count(first_line(prompt)) == 1
        assert html.count('<details class="subagent">') == len(sidechain_prompts(session_id))
        turns = ledger.sessions[session_id].assistant_lines_main
        assert re.search(f"<dt[^>]*>Turns</dt><dd>{turns:,}</dd>", html)


def test_a_sidechain_no_call_names_is_kept_apart():
    """The Task call and result of one sidechain left out (trimmed whole lines): its
    conversation still does not read as the user's, it is listed unlinked."""
    entries = raw(ORCHESTRATED)
    prompts = sidechain_prompts(ORCHESTRATED)
    prompt, call = next(iter(prompts.items()))

    def names_call(entry: dict[str, Any]) -> bool:
        content = entry["message"]["content"] if "message" in entry else ""
        return isinstance(content, list) and any(
            call in (b.get("id"), b.get("tool_use_id")) for b in content
        )

    found = build_conversation([Message(e) for e in entries if not names_call(e)])
    assert list(found.unlinked) == ["sidechain 1"]
    assert found.unlinked["sidechain 1"].turns[0].blocks[0].text == prompt
    top = [b.text for t in found.turns if t.role == "user" for b in t.blocks]
    assert prompt not in top
    linked = [b for t in found.turns for b in t.blocks if b.subagent is not None]
    assert [b.tool_use_id for b in linked] == [c for p, c in prompts.items() if p != prompt]


def test_a_transcript_of_sidechain_lines_only_is_read_whole():
    """A subagent's own transcript (every line a sidechain) is its conversation."""
    lines = [e for e in raw(ORCHESTRATED) if e.get("isSidechain")]
    found = build_conversation([Message(e) for e in lines])
    assert not found.unlinked
    assert found.turns[0].role == "user" and found.turns[0].blocks[0].text in sidechain_prompts(
        ORCHESTRATED
    )


# -- a session known only from its subagent ------------------------------------------------


def test_a_session_known_only_from_its_subagent(store: SessionStore, tmp_path: Path):
    source = PROJECTS / SUBAGENT_PROJECT
    project = tmp_path / "projects" / SUBAGENT_PROJECT
    subagent = Path(WITH_SUBAGENT) / "subagents" / "agent-aac57f5.jsonl"
    (project / subagent).parent.mkdir(parents=True)
    shutil.copy(source / subagent, project / subagent)
    import_transcripts(store, [tmp_path])
    alone = build_ledger(tmp_path).sessions[WITH_SUBAGENT]
    meta = store.get_metadata(WITH_SUBAGENT)
    assert alone.main_file is None and alone.assistant_lines_subagents > 0
    assert meta.turns == alone.assistant_lines_subagents
    assert meta.model == alone.model_subagents is not None
    assert meta.first_prompt == alone.first_prompt_subagent is not None
    assert session_title(meta) == alone.first_prompt_subagent
    assert (meta.input_tokens, meta.output_tokens) == alone.tokens_total
    page = TestClient(create_app(store)).get(f"/s/{WITH_SUBAGENT}").text
    assert f"<dt>Model</dt><dd>{alone.model_subagents}</dd>" in page
    assert re.search(f"<dt[^>]*>Turns</dt><dd>{alone.assistant_lines_subagents:,}</dd>", page)
    assert '<dt>Messages</dt><dd>0 <span class="muted">(only its subagents\' transcripts' in page

    shutil.copy(source / f"{WITH_SUBAGENT}.jsonl", project / f"{WITH_SUBAGENT}.jsonl")
    import_transcripts(store, [tmp_path])  # the main transcript arrives
    whole = build_ledger(tmp_path).sessions[WITH_SUBAGENT]
    meta = store.get_metadata(WITH_SUBAGENT)
    assert meta.turns == whole.assistant_lines_main != alone.assistant_lines_subagents
    assert meta.model == whole.model_main != alone.model_subagents
    assert meta.first_prompt == whole.shown_first_prompt
    assert (meta.input_tokens, meta.output_tokens) == whole.tokens_total
    assert (meta.subagent_input_tokens, meta.subagent_output_tokens) == whole.tokens_subagents


def test_rewriting_the_main_transcript_keeps_the_subagents_figures(
    store: SessionStore, tmp_path: Path
):
    """An upsert of a stored main entry (the official SDK's mirror) and a whole save refold
    the main transcript; the subagent transcripts' figures stay."""
    shutil.copytree(PROJECTS / SUBAGENT_PROJECT, tmp_path / "projects" / SUBAGENT_PROJECT)
    import_transcripts(store, [tmp_path])
    counted = build_ledger(tmp_path).sessions[WITH_SUBAGENT]
    messages = store.load_session(WITH_SUBAGENT).messages
    edited = {**messages[5].to_dict(), "note": "edited"}
    for write in (
        lambda: store.append_messages(WITH_SUBAGENT, [edited]),
        lambda: store.save_session(WITH_SUBAGENT, messages),
    ):
        meta = write()
        assert (meta.subagent_input_tokens, meta.subagent_output_tokens) == (
            counted.tokens_subagents
        )
        assert meta.subagent_cost == pytest.approx(counted.cost_subagents, abs=1e-9)
        assert meta.subagent_cost > 0
        assert (meta.input_tokens, meta.output_tokens) == counted.tokens_total
