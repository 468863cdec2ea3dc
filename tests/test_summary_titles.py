"""A ``summary`` entry titles the session holding the entry its ``leafUuid`` names, often
another file's (issue 22, point 4), matched store-wide whatever the order.

The sessions are written by the bundled CLI (``tests/cli_transcripts.py``); today's
CLI writes no ``summary`` entries itself (older ones wrote the summary of the
previous session into the next session's file), so the summary lines here are
HAND-MADE, in the shape those CLIs wrote, and appended to copies of CLI-written
files. Leaves are named from the raw lines, independently of the store.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from claude_sessions import SessionStore
from claude_sessions.importer import import_transcripts
from claude_sessions.store.transfer import copy_store
from tests.store_fixtures import StoreFactory

from .cli_transcripts import Family, write_family, write_jsonl
from .older_store import before_summaries
from .transcript_ledger import build_ledger

TITLE = "Limerick quartet about flaky tests"
ORIGIN_TITLE = "Alice designs a blog schema"


@pytest.fixture(scope="module")
def family(tmp_path_factory: pytest.TempPathFactory) -> Family:
    return write_family(tmp_path_factory.mktemp("cli-home"))


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A store behind a URL keeps its import state under ~/.claude_sdk: keep it in tmp."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def last_message(family: Family, session_id: str) -> str:
    """The uuid of a session's last user or assistant entry: the leaf a summary names."""
    kinds = ("user", "assistant")
    return [e["uuid"] for e in family.entries(session_id) if e.get("type") in kinds][-1]


def summary(text: str, leaf: str) -> dict[str, Any]:
    """A summary line as Claude Code 1.0.x wrote them (hand-made: see the module doc)."""
    return {"type": "summary", "summary": text, "leafUuid": leaf}


def carrying(family: Family, session_id: str, lines: list[dict[str, Any]], where: Path) -> Path:
    """A copy of a CLI-written file with hand-made summary lines before its own, as the
    CLI wrote them at the top of the next session's file."""
    path = where / family.project.name / f"{session_id}.jsonl"
    return write_jsonl(path, [*lines, *family.entries(session_id)])


def import_each(store: SessionStore, paths: list[Path]) -> None:
    for path in paths:
        report = import_transcripts(store, [path])
        assert report.errors == [] and report.files_read == 1


def title(store: SessionStore, session_id: str) -> str | None:
    meta = store.get_metadata(session_id)
    assert meta is not None
    return meta.title


def test_the_leaf_is_in_one_file_and_the_summary_in_another(family: Family) -> None:
    ledger = build_ledger(family.projects, sdk=False)
    leaf = last_message(family, family.other)
    holders = [s.session_id for s in ledger.sessions.values() if leaf in s.main_uuids]
    assert holders == [family.other]


@pytest.mark.parametrize("order", ["leaf first", "summary first"])
def test_a_summary_titles_the_session_holding_its_leaf(
    store: SessionStore, family: Family, tmp_path: Path, order: str
) -> None:
    line = summary(TITLE, last_message(family, family.other))
    carrier = carrying(family, family.origin, [line], tmp_path)
    pair = [family.path(family.other), carrier]
    import_each(store, pair if order == "leaf first" else pair[::-1])

    assert title(store, family.other) == TITLE
    assert title(store, family.origin) is None  # it only carried the summary
    assert family.other in {m.session_id for m in store.search(text="limerick")}


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_a_summary_of_a_forked_conversation_titles_the_origin_not_its_fork(
    store: SessionStore, family: Family, tmp_path: Path, order: tuple[int, ...]
) -> None:
    leaf = last_message(family, family.origin)
    assert leaf in {e.get("uuid") for e in family.entries(family.fork)}  # the fork's copy
    carrier = carrying(family, family.other, [summary(ORIGIN_TITLE, leaf)], tmp_path)
    files = [family.path(family.origin), family.path(family.fork), carrier]
    import_each(store, [files[n] for n in order])

    assert title(store, family.origin) == ORIGIN_TITLE
    assert title(store, family.fork) is None
    assert title(store, family.other) is None


def test_a_waiting_summary_is_applied_by_a_later_save_or_append(
    store: SessionStore, family: Family, tmp_path: Path
) -> None:
    leaf = last_message(family, family.other)
    import_each(store, [carrying(family, family.origin, [summary(TITLE, leaf)], tmp_path)])
    entries = family.entries(family.other)
    at = next(n for n, e in enumerate(entries) if e.get("uuid") == leaf)
    store.append_messages(family.other, entries[:at])  # a capture before the leaf was written
    assert title(store, family.other) is None
    store.append_messages(family.other, entries[at:])
    assert title(store, family.other) == TITLE

    store.save_session("saved-copy", [{**e, "sessionId": "saved-copy"} for e in entries])
    assert title(store, "saved-copy") is None  # it holds the leaf too, but came second
    assert title(store, family.other) == TITLE


def test_the_newest_summary_of_a_leaf_wins_and_follows_to_the_session(
    store: SessionStore, family: Family, tmp_path: Path
) -> None:
    leaf = last_message(family, family.other)
    import_each(
        store,
        [
            family.path(family.other),
            carrying(family, family.origin, [summary("First try", leaf)], tmp_path / "a"),
            carrying(family, family.grandchild, [summary(TITLE, leaf)], tmp_path / "b"),
        ],
    )
    assert title(store, family.other) == TITLE


def test_copying_a_store_keeps_held_and_waiting_summaries(
    store_factory: StoreFactory, family: Family, tmp_path: Path
) -> None:
    source, destination = store_factory(), store_factory()
    lines = [
        summary(TITLE, last_message(family, family.other)),
        summary(ORIGIN_TITLE, last_message(family, family.origin)),
    ]
    import_each(source, [family.path(family.other), carrying(family, family.fork, lines, tmp_path)])
    assert title(source, family.other) == TITLE  # the origin's leaf is not stored yet

    assert copy_store(source, destination).ok
    assert title(destination, family.other) == TITLE
    import_each(destination, [family.path(family.origin)])
    assert title(destination, family.origin) == ORIGIN_TITLE
    assert title(destination, family.fork) is None
    destination.append_messages(family.other, [{"type": "tag", "tag": "x"}])  # derived again
    assert title(destination, family.other) == TITLE


def test_an_upgrade_moves_a_summary_title_to_the_session_holding_its_leaf(
    store_location: str, family: Family, tmp_path: Path
) -> None:
    """A store written before this version titled the file that carried the summary."""
    line = summary(TITLE, last_message(family, family.other))
    carrier = carrying(family, family.origin, [line], tmp_path)
    with SessionStore(store_location, cleanup_after_days=None) as store:
        import_each(store, [family.path(family.other), carrier])
    with before_summaries(store_location) as sql:  # as the version before left it
        ((state,),) = sql("SELECT fold_state FROM sessions WHERE session_id = ?", (family.origin,))
        old = json.dumps({**json.loads(state), "summary_title": TITLE})
        sql(
            "UPDATE sessions SET fold_state = ?, title = ? WHERE session_id = ?",
            (old, TITLE, family.origin),
        )
        sql("UPDATE sessions SET title = NULL WHERE session_id = ?", (family.other,))

    with SessionStore(store_location, cleanup_after_days=None) as store:
        assert title(store, family.other) == TITLE
        assert title(store, family.origin) is None
        assert family.other in {m.session_id for m in store.search(text="quartet")}
