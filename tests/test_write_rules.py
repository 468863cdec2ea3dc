"""The store's write decisions, without a database (see ``store/write_rules.py``)."""

from __future__ import annotations

import pytest

from claude_sessions.model.entries import NewEntry
from claude_sessions.store.write_rules import (
    NOT_FORKED,
    CliTagChange,
    ForkLink,
    Holder,
    Kin,
    adopted_project_key,
    cli_tag_change,
    created_after_batch,
    created_after_save,
    fork_link,
    job_due,
    numbered,
    same_root,
    settle_kin,
    store_version,
    summary_holder,
    updated_at,
)

ORIGIN, OTHER = "origin-session", "other-session"


# -- which session a fork came from ------------------------------------------------------


def test_a_run_s_report_makes_the_fork_link_of_an_unlinked_session():
    reported = ForkLink(ORIGIN, "msg-7")
    assert fork_link(NOT_FORKED, reported, None) == reported
    assert fork_link(NOT_FORKED, reported, OTHER) == reported  # over the SDK's marker


def test_a_run_adds_the_branch_point_to_an_origin_a_hook_found_first():
    held = ForkLink(ORIGIN, None)
    assert fork_link(held, ForkLink(ORIGIN, "msg-7"), None) == ForkLink(ORIGIN, "msg-7")


def test_a_run_never_moves_a_session_to_another_origin_or_branch_point():
    held = ForkLink(ORIGIN, None)
    assert fork_link(held, ForkLink(OTHER, "msg-7"), None) == held
    pinned = ForkLink(ORIGIN, "msg-3")
    assert fork_link(pinned, ForkLink(ORIGIN, "msg-7"), None) == pinned


def test_the_marks_of_copied_entries_name_the_origin_over_what_the_session_held():
    assert fork_link(NOT_FORKED, NOT_FORKED, ORIGIN) == ForkLink(ORIGIN, None)
    # held from weaker evidence (a shared root, first come): the marks win
    assert fork_link(ForkLink(OTHER, None), NOT_FORKED, ORIGIN) == ForkLink(ORIGIN, None)
    assert fork_link(ForkLink(ORIGIN, "msg-3"), NOT_FORKED, ORIGIN) == ForkLink(ORIGIN, "msg-3")
    assert fork_link(NOT_FORKED, NOT_FORKED, None) == NOT_FORKED


def test_a_report_without_an_origin_changes_nothing():
    held = ForkLink(ORIGIN, "msg-3")
    assert fork_link(held, ForkLink(None, "msg-9"), None) == held
    assert fork_link(NOT_FORKED, ForkLink(None, "msg-9"), None) == NOT_FORKED


def test_a_shared_root_needs_the_same_message_and_time_not_only_the_uuid():
    root = {"uuid": "u-1", "message": {"role": "user", "content": "hi"}, "timestamp": "T1"}
    assert same_root({**root, "sessionId": OTHER}, root)  # only the session id differs
    assert not same_root({**root, "message": {"role": "user", "content": "bye"}}, root)
    assert not same_root({**root, "timestamp": "T2"}, root)


def kin(ref: int, name: str, keys: str, link: str | None = None, *, pinned: bool = False) -> Kin:
    """A session sharing the root entry ``r``; ``keys``: its other entries, one letter each."""
    return Kin(ref, name, ForkLink(link, None), pinned, frozenset({"r", *keys}))


def test_the_session_holding_all_of_another_s_entries_and_more_is_its_fork():
    for stored_first in (True, False):  # the order they were stored in does not matter
        origin, fork = kin(1, "O", "ab"), kin(2, "F", "abc")
        pair = [origin, fork] if stored_first else [fork, origin]
        assert settle_kin(pair) == {1: NOT_FORKED, 2: ForkLink("O", None)}


def test_a_fork_of_a_fork_is_linked_to_the_fullest_session_it_holds():
    family = [kin(1, "O", "a"), kin(2, "F", "ab"), kin(3, "G", "abc")]
    links = settle_kin(family)
    assert links == {1: NOT_FORKED, 2: ForkLink("O", None), 3: ForkLink("F", None)}


def test_the_marks_of_copied_entries_outweigh_content():
    # F's marks name O though F holds less (its copy is still being written)
    family = [kin(1, "O", "ab"), kin(2, "F", "a", "O", pinned=True)]
    assert settle_kin(family) == {1: NOT_FORKED, 2: ForkLink("O", None)}


def test_a_link_held_into_a_session_found_to_be_its_own_fork_goes():
    # O was taken for a fork of F while F held less; now F holds all of O and more
    family = [kin(1, "O", "ab", "F"), kin(2, "F", "abc")]
    assert settle_kin(family) == {1: NOT_FORKED, 2: ForkLink("O", None)}


def test_content_keeps_the_branch_point_a_run_reported():
    fork = Kin(2, "F", ForkLink("O", "msg-3"), False, frozenset({"r", "a", "b"}))
    assert settle_kin([kin(1, "O", "a"), fork])[2] == ForkLink("O", "msg-3")


def test_without_evidence_a_newly_rooted_session_is_a_fork_of_the_first_stored():
    # neither holds all of the other's entries: the one stored first is the origin...
    assert settle_kin([kin(1, "A", "ab"), kin(2, "B", "ac")], newly_rooted=2)[2] == ForkLink(
        "A", None
    )
    assert settle_kin([kin(1, "A", "ab"), kin(2, "B", "ac")]) == {1: NOT_FORKED, 2: NOT_FORKED}
    # ... unless that one holds all of the new one's entries: then it is its descendant
    family = [kin(1, "G", "abc", "F", pinned=True), kin(2, "O", "a")]
    assert settle_kin(family, newly_rooted=2)[2] == NOT_FORKED


def test_a_summary_titles_the_origin_of_the_sessions_holding_its_leaf():
    origin, fork = Holder(5, "O", None, 7), Holder(2, "F", "O", 7)
    assert summary_holder([fork, origin]) == origin  # the fork holds a copy
    unrelated = [Holder(9, "B", None, 1), Holder(4, "A", None, 3)]
    assert summary_holder(unrelated) == unrelated[1]  # the one stored first
    assert summary_holder([]) is None


# -- times ------------------------------------------------------------------------------


def test_a_saved_session_keeps_its_creation_time():
    assert created_after_save(100.0, 50.0, now=500.0) == 100.0
    assert created_after_save(None, 50.0, now=500.0) == 50.0
    assert created_after_save(None, None, now=500.0) == 500.0


def test_a_batch_moves_the_creation_time_to_its_earliest_entry():
    assert created_after_batch(100.0, 50.0, was_empty=False) == 50.0
    assert created_after_batch(100.0, 150.0, was_empty=False) == 100.0
    assert created_after_batch(100.0, 150.0, was_empty=True) == 150.0  # the row's time was a guess
    assert created_after_batch(100.0, None, was_empty=True) == 100.0


def test_updated_is_the_last_entry_s_time_never_before_creation():
    assert updated_at(100.0, 300.0, now=900.0) == 300.0
    assert updated_at(100.0, None, now=900.0) == 900.0
    assert updated_at(400.0, 300.0, now=900.0) == 400.0


# -- entries, project keys, tags ----------------------------------------------------------


def test_a_transcript_s_repeated_key_is_kept_by_its_first_entry_only():
    batch = [("k1", {"n": 0}, "t0"), (None, {"n": 1}, "t1"), ("k1", {"n": 2}, "t2"),
             ("k2", {"n": 3}, "t3")]  # fmt: skip
    assert numbered(batch) == [
        NewEntry(0, "k1", {"n": 0}, "t0"),
        NewEntry(1, None, {"n": 1}, "t1"),
        NewEntry(2, None, {"n": 2}, "t2"),
        NewEntry(3, "k2", {"n": 3}, "t3"),
    ]


def test_a_session_saved_without_a_directory_adopts_the_next_one():
    assert adopted_project_key("", "-work-p") == "-work-p"
    assert adopted_project_key("-work-a", "-work-p") == "-work-a"
    assert adopted_project_key("", "") == ""


@pytest.mark.parametrize(
    ("old", "new", "change"),
    [
        (None, "wip", CliTagChange(None, "wip")),
        ("wip", "done", CliTagChange("wip", "done")),
        ("wip", "wip", CliTagChange(None, "wip")),
        ("wip", None, CliTagChange("wip", None)),
        ("wip", "", CliTagChange("wip", None)),  # a blank tag entry clears the tag
        (None, None, CliTagChange(None, None)),
    ],
)
def test_the_cli_s_tag_changes(old, new, change):
    assert cli_tag_change(old, new) == change


# -- periodic jobs and the version ---------------------------------------------------------


def test_a_job_is_due_once_its_interval_passed_or_its_record_is_odd():
    assert job_due(None, now=1000.0, interval=60)
    assert not job_due("990.0", now=1000.0, interval=60)
    assert job_due("900.0", now=1000.0, interval=60)
    assert job_due("2000.0", now=1000.0, interval=60)  # the clock went back
    assert job_due("garbage", now=1000.0, interval=60)


def test_the_store_version_names_the_newest_write_and_the_count_of_writes():
    assert store_version(1234, None) == "1234.0"
    assert store_version(1234, "3") == "1234.3"
    assert store_version(1234, "4") != store_version(1234, "3")
