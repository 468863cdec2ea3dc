"""The store's write decisions, without a database (see ``store/write_rules.py``)."""

from __future__ import annotations

import pytest

from claude_sessions.model.entries import NewEntry
from claude_sessions.store.write_rules import (
    NOT_FORKED,
    CliTagChange,
    ForkLink,
    adopted_project_key,
    cli_tag_change,
    created_after_batch,
    created_after_save,
    fork_link,
    job_due,
    numbered,
    same_root,
    seek_shared_root,
    store_version,
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


def test_the_sdk_marker_names_the_origin_only_when_nothing_else_does():
    assert fork_link(NOT_FORKED, NOT_FORKED, ORIGIN) == ForkLink(ORIGIN, None)
    assert fork_link(ForkLink(OTHER, None), NOT_FORKED, ORIGIN) == ForkLink(OTHER, None)
    assert fork_link(NOT_FORKED, NOT_FORKED, None) == NOT_FORKED


def test_a_report_without_an_origin_changes_nothing():
    held = ForkLink(ORIGIN, "msg-3")
    assert fork_link(held, ForkLink(None, "msg-9"), None) == held
    assert fork_link(NOT_FORKED, ForkLink(None, "msg-9"), None) == NOT_FORKED


def test_a_shared_root_is_sought_only_without_an_origin_and_for_a_new_root():
    assert seek_shared_root(NOT_FORKED, had_root=False)
    assert not seek_shared_root(NOT_FORKED, had_root=True)
    assert not seek_shared_root(ForkLink(ORIGIN, None), had_root=False)


def test_a_shared_root_needs_the_same_message_and_time_not_only_the_uuid():
    root = {"uuid": "u-1", "message": {"role": "user", "content": "hi"}, "timestamp": "T1"}
    assert same_root({**root, "sessionId": OTHER}, root)  # only the session id differs
    assert not same_root({**root, "message": {"role": "user", "content": "bye"}}, root)
    assert not same_root({**root, "timestamp": "T2"}, root)


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


def test_the_store_version_names_writes_sessions_and_purges():
    assert store_version(1234, 5, None) == "1234.5.0"
    assert store_version(1234, 5, "3") == "1234.5.3"
