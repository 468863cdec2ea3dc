"""Which session a fork came from is decided from content, whatever order the files arrive
in (issue 22, point 1), on transcripts the bundled CLI wrote (``--fork-session``).

Each file is imported on its own, one import after another, as a user importing a
fork's file before its origin's does. The expected figures are the independent
ledger's (``tests/transcript_ledger.py``): each session's own requests, those its
file does not say another session made.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from claude_sessions import SessionStore
from claude_sessions.cli import cli
from claude_sessions.importer import import_transcripts
from claude_sessions.web import create_app

from .cli_transcripts import REPLIES, Family, write_family, write_jsonl
from .older_store import before_summaries
from .transcript_ledger import Ledger, build_ledger

ORDERS = ["origin first", "fork first"]


@pytest.fixture(scope="module")
def family(tmp_path_factory: pytest.TempPathFactory) -> Family:
    return write_family(tmp_path_factory.mktemp("cli-home"))


@pytest.fixture(scope="module")
def ledger(family: Family) -> Ledger:
    return build_ledger(family.projects, sdk=False)


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A store behind a URL keeps its import state under ~/.claude_sdk: keep it in tmp."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def import_each(store: SessionStore, paths: list[Path]) -> None:
    for path in paths:
        report = import_transcripts(store, [path])
        assert report.errors == [] and report.files_read == 1


def replies(*numbers: int) -> tuple[int, int]:
    """Tokens in and out of the scripted replies (1-based), counted by hand."""
    chosen = [REPLIES[n - 1] for n in numbers]
    return sum(r.input_tokens for r in chosen), sum(r.output_tokens for r in chosen)


def test_the_ledger_counts_each_session_s_own_requests(family: Family, ledger: Ledger) -> None:
    own = {sid: ledger.sessions[sid].tokens_own for sid in (family.origin, family.fork)}
    assert own == {family.origin: replies(1, 2), family.fork: replies(3, 4)}
    assert ledger.sessions[family.grandchild].tokens_own == replies(5)
    assert ledger.sessions[family.fork].tokens_total == replies(1, 2, 3, 4)  # it replays 1, 2


def assert_own_figures(store: SessionStore, ledger: Ledger, *session_ids: str) -> None:
    for session_id in session_ids:
        meta, counted = store.get_metadata(session_id), ledger.sessions[session_id]
        assert meta is not None
        assert (meta.input_tokens, meta.output_tokens) == counted.tokens_own, session_id
        assert meta.total_cost == pytest.approx(counted.cost_own), session_id


@pytest.mark.parametrize("order", ORDERS)
def test_origin_and_fork_come_out_the_same_in_either_order(
    store: SessionStore, family: Family, ledger: Ledger, order: str
) -> None:
    pair = [family.path(family.origin), family.path(family.fork)]
    import_each(store, pair if order == "origin first" else pair[::-1])

    origin, forked = store.get_metadata(family.origin), store.get_metadata(family.fork)
    assert origin is not None and forked is not None
    assert (origin.forked_from, forked.forked_from) == (None, family.origin)
    assert_own_figures(store, ledger, family.origin, family.fork)
    assert origin.total_cost > 0
    assert (origin.turns, forked.turns) == (2, 4)  # a fork's turns include those it replays
    assert store.usage()[0].input_tokens == replies(1, 2, 3, 4)[0]  # each request once


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_three_generations_are_linked_in_any_order(
    store: SessionStore, family: Family, ledger: Ledger, order: tuple[int, ...]
) -> None:
    generations = [family.origin, family.fork, family.grandchild]
    import_each(store, [family.path(generations[n]) for n in order])

    links = {sid: store.get_metadata(sid).forked_from for sid in generations}  # type: ignore[union-attr]
    assert links == {
        family.origin: None,
        family.fork: family.origin,
        family.grandchild: family.fork,
    }
    assert_own_figures(store, ledger, *generations)


def unmarked(family: Family, session_id: str) -> list[dict[str, Any]]:
    """The CLI's file without its fork marks (``requestSessionId``), as older CLIs wrote
    forks: edited here, the rest as the CLI wrote it."""
    entries = family.entries(session_id)
    assert any("requestSessionId" in e for e in entries)
    return [{k: v for k, v in e.items() if k != "requestSessionId"} for e in entries]


@pytest.mark.parametrize("order", ORDERS)
def test_a_fork_without_the_cli_s_marks_is_told_by_its_content(
    store: SessionStore, family: Family, ledger: Ledger, tmp_path: Path, order: str
) -> None:
    copy = write_jsonl(
        tmp_path / family.project.name / f"{family.fork}.jsonl", unmarked(family, family.fork)
    )
    pair = [family.path(family.origin), copy]
    import_each(store, pair if order == "origin first" else pair[::-1])

    assert store.get_metadata(family.origin).forked_from is None  # type: ignore[union-attr]
    assert store.get_metadata(family.fork).forked_from == family.origin  # type: ignore[union-attr]
    assert_own_figures(store, ledger, family.origin, family.fork)


@pytest.mark.parametrize("order", ORDERS)
def test_a_fork_read_while_the_cli_writes_its_copy_ends_linked_to_its_origin(
    store: SessionStore, family: Family, ledger: Ledger, tmp_path: Path, order: str
) -> None:
    """An import that reads the fork's file while the CLI is copying the origin's entries
    into it sees a fork holding LESS than its origin: decided again as it grows."""
    entries = unmarked(family, family.fork)
    origin_uuids = {e["uuid"] for e in family.entries(family.origin) if "uuid" in e}
    copied = [n for n, e in enumerate(entries) if e.get("uuid") in origin_uuids]
    half = copied[len(copied) // 2]  # half the copy written so far
    path = tmp_path / family.project.name / f"{family.fork}.jsonl"
    write_jsonl(path, entries[:half])
    steps = [family.path(family.origin), path]
    import_each(store, steps if order == "origin first" else steps[::-1])

    write_jsonl(path, entries)  # the CLI finished the copy, and went on
    import_each(store, [path])

    assert store.get_metadata(family.origin).forked_from is None  # type: ignore[union-attr]
    assert store.get_metadata(family.fork).forked_from == family.origin  # type: ignore[union-attr]
    assert_own_figures(store, ledger, family.origin, family.fork)


@pytest.mark.parametrize("order", ORDERS)
def test_show_and_the_web_page_give_the_origin_its_own_figures(
    store_location: str, family: Family, home: Path, order: str
) -> None:
    env = {"CLAUDE_SESSIONS_STORE": store_location, "HOME": str(home), "NO_COLOR": "1"}
    runner = CliRunner()
    pair = [family.origin, family.fork]
    for session_id in pair if order == "origin first" else pair[::-1]:
        done = runner.invoke(cli, ["import", str(family.path(session_id))], env=env)
        assert done.exit_code == 0, done.output

    shown = runner.invoke(cli, ["show", family.origin], env=env)
    assert shown.exit_code == 0, shown.output
    tokens_in, tokens_out = replies(1, 2)
    assert f"Tokens: {tokens_in:,} in, {tokens_out:,} out" in shown.output
    assert "Forked from" not in shown.output
    forked = runner.invoke(cli, ["show", family.fork], env=env)
    assert f"Forked from: {family.origin}" in forked.output

    with (
        SessionStore(store_location, cleanup_after_days=None) as store,
        TestClient(create_app(store)) as client,
    ):
        page = client.get(f"/s/{family.origin}").text
    facts = re.search(r'<dl id="facts".*?</dl>', page, re.S)
    assert facts is not None
    tokens = re.search(r"<dt>Tokens</dt><dd[^>]*>(.*?)</dd>", facts.group(0), re.S)
    assert tokens is not None
    shown_tokens = re.sub(r"<[^>]+>", "", tokens.group(1))  # no cache in these replies
    assert shown_tokens == f"{tokens_in:,} in · 0 cache writes · 0 cache reads · {tokens_out:,} out"
    assert "<dd>$0</dd>" not in facts.group(0)
    assert "Forked from" not in page and family.fork in page  # listed among its forks


def test_an_upgrade_settles_links_an_older_store_took_from_the_import_order(
    store_location: str, family: Family, ledger: Ledger
) -> None:
    """A store written before this version holds the origin as "forked from" its fork
    (its files came fork first): opening it settles the link and the figures."""
    with SessionStore(store_location, cleanup_after_days=None) as store:
        import_each(store, [family.path(family.origin), family.path(family.fork)])
    with before_summaries(store_location) as sql:  # as the version before left it:
        for ref, state in sql("SELECT id, fold_state FROM sessions", ()):
            unmarked_state = re.sub(r',"forked_from":"[^"]*"', "", state)  # marks not folded
            sql("UPDATE sessions SET fold_state = ? WHERE id = ?", (unmarked_state, ref))
        sql(  # the origin linked to its fork, which took the origin's requests
            "UPDATE sessions SET forked_from = ?, input_tokens = 0, output_tokens = 0, "
            "total_cost = 0 WHERE session_id = ?",
            (family.fork, family.origin),
        )
        sql("UPDATE sessions SET forked_from = NULL WHERE session_id = ?", (family.fork,))

    with SessionStore(store_location, cleanup_after_days=None) as store:
        assert store.get_metadata(family.origin).forked_from is None  # type: ignore[union-attr]
        assert store.get_metadata(family.fork).forked_from == family.origin  # type: ignore[union-attr]
        assert_own_figures(store, ledger, family.origin, family.fork)
