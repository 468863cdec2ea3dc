"""``trash restore``, one session or ``--all``, through click's CliRunner on both databases."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from claude_sessions import SessionStore

from ..store_samples import run
from .samples import as_json


def stamped(location, moment):
    """The store at ``location`` with its clock standing at ``moment``."""
    return SessionStore(location, cleanup_after_days=None, trash_days=None, clock=lambda: moment)


def trashed_ids(store):
    return sorted(m.session_id for m in store.list_trash())


def live_ids(store):
    """Every live session's id, one entry per live row (a duplicate would show twice)."""
    return sorted(m.session_id for m in store.search(limit=None))


def test_one_command_restores_a_few_thousand_sessions(invoke, store, store_location, request):
    """What one cleanup moved to the trash comes back with one command, in batches, but
    for the ids saved anew since: those stay in the trash, named."""
    total = 2_000 if "postgresql" in request.node.callspec.id else 3_000
    ids = [f"{n:05d}-bulk" for n in range(total)]
    with stamped(store_location, datetime.now(timezone.utc) - timedelta(days=45)) as then:
        for sid in ids:
            then.save_session(sid, run(sid, text="Zanzibar" if sid == ids[1234] else "Hello"))
    assert store.cleanup_old_sessions(30) == total
    taken = ids[7::389]  # spread over every batch of 500
    for sid in taken:
        store.save_session(sid, run(sid), description="saved since")

    report = as_json(invoke("trash", "restore", "--all", "--json"))

    assert report == {"restored": total - len(taken), "conflicts": taken}
    assert live_ids(store) == ids  # every id once
    assert trashed_ids(store) == taken
    renewed = [m.session_id for m in store.search(limit=None) if m.description == "saved since"]
    assert sorted(renewed) == taken
    assert [m.session_id for m in store.search(text="Zanzibar")] == [ids[1234]]


def test_restore_all_says_in_one_line_what_it_did(invoke, store, ids):
    for session_id in ids.values():
        store.delete_session(session_id)
    taken = ids["fork2"]
    store.save_session(taken, run(taken), project="/somewhere/else")
    result = invoke("trash", "restore", "--all")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "Restored 3 session(s) from the trash. "
        f"1 stayed there, as a live session holds their id: {taken[:8]}\n"
    )
    refused = invoke("trash", "restore", taken[:8])
    assert refused.exit_code == 1
    assert refused.stderr.startswith(f"Error: cannot restore {taken}: a live session has this id")
    assert live_ids(store) == sorted(ids.values()) and trashed_ids(store) == [taken]


def test_restore_all_names_the_first_conflicts_and_counts_the_rest(invoke, store):
    taken = [f"{n:02d}-conflict" for n in range(7)]
    for sid in taken:
        store.save_session(sid, run(sid))
        store.delete_session(sid)
        store.save_session(sid, run(sid))
    result = invoke("trash", "restore", "--all")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "Restored 0 session(s) from the trash. 7 stayed there, as a live session holds "
        "their id: 00-confl, 01-confl, 02-confl, 03-confl, 04-confl, "
        "2 more (--json lists them)\n"
    )


def test_restore_all_since_a_date_and_with_tags(invoke, store, store_location):
    now = datetime.now(timezone.utc)
    for sid, days_ago, tags in (
        ("old-a", 10, ["a"]),
        ("new-a", 2, ["a"]),
        ("new-b", 2, ["b"]),
        ("new-c", 1, ["c"]),
    ):
        with stamped(store_location, now - timedelta(days=days_ago)) as then:
            then.save_session(sid, run(sid), tags=tags)
            then.delete_session(sid)
    restored = invoke("trash", "restore", "--all", "--since", "5d", "--tag", "a", "--tag", "b")
    assert restored.stdout == "Restored 2 session(s) from the trash.\n"
    assert trashed_ids(store) == ["new-c", "old-a"]
    day = (now - timedelta(days=20)).date().isoformat()
    assert as_json(invoke("trash", "restore", "--all", "--since", day, "--json")) == {
        "restored": 2,
        "conflicts": [],
    }
    assert trashed_ids(store) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--all", "ID"], "give a session ID or --all, not both"),
        ([], "give the ID of the session to restore, or --all"),
        (["ID", "--tag", "a"], "--since and --tag go with --all"),
        (["ID", "--since", "7d"], "--since and --tag go with --all"),
        (["--all", "--since", "soon"], "not a date"),
    ],
)
def test_restore_refuses_mixed_or_missing_arguments(invoke, store, ids, args, message):
    store.delete_session(ids["root"])
    given = [ids["root"][:8] if arg == "ID" else arg for arg in args]
    result = invoke("trash", "restore", *given)
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ") and message in result.stderr
    assert trashed_ids(store) == [ids["root"]]
