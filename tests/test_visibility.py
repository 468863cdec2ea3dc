"""Who sees what on a team store, through the library on both databases: members see
their own sessions and the shared ones, admins everything, team totals stay whole,
a hidden session reads as missing, lineage shows only what the viewer may see, and
only owners and admins change a session, each change written to the audit log."""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest

from claude_sessions import SessionStore
from claude_sessions.model.exceptions import (
    AmbiguousSessionIdError,
    NotAllowedError,
    SessionNotFoundError,
)
from claude_sessions.model.identity import USER_ENV_VAR
from claude_sessions.store import users, visibility
from claude_sessions.views.lineage import fork_tree

from .team_samples import MEMBERS, SAMPLES, Team, make_team


@pytest.fixture
def team(store: SessionStore, monkeypatch: pytest.MonkeyPatch) -> Team:
    return make_team(store, monkeypatch)


def _leaks(team: Team, name: str, answer: object) -> list[str]:
    text = json.dumps(answer, default=str)
    return [s.marker for s in team.hidden_from(name) if s.marker in text]


@pytest.mark.parametrize("name", [*MEMBERS, "root"])
def test_a_viewer_lists_and_searches_only_what_they_may_see(team: Team, name: str) -> None:
    seen = team.as_(name)
    listed = {m.session_id for m in seen.list_sessions()}
    assert listed == team.visible_to(name)
    found = seen.search(text="commonword")
    assert {m.session_id for m in found} == team.visible_to(name)
    assert not _leaks(team, name, [m.to_dict() for m in found])
    for sample in SAMPLES:
        hit = seen.search(text=sample.marker)
        assert bool(hit) == (sample.session_id in team.visible_to(name))


def test_the_whole_store_without_a_viewer_and_for_the_admin(team: Team) -> None:
    every = {s.session_id for s in SAMPLES}
    assert {m.session_id for m in team.store.list_sessions()} == every
    assert {m.session_id for m in team.as_("root").list_sessions()} == every


@pytest.mark.parametrize("name", MEMBERS)
def test_a_hidden_session_reads_exactly_as_a_missing_one(team: Team, name: str) -> None:
    seen = team.as_(name)
    for sample in team.hidden_from(name):
        assert seen.get_metadata(sample.session_id) is None
        assert seen.get_session(sample.session_id) is None
        with pytest.raises(SessionNotFoundError) as hidden:
            seen.load_session(sample.session_id)
        with pytest.raises(SessionNotFoundError) as missing:
            seen.load_session("qx-nosuchsession")
        assert str(hidden.value).replace(sample.session_id, "X") == str(missing.value).replace(
            "qx-nosuchsession", "X"
        )
        with pytest.raises(SessionNotFoundError):
            seen.resolve_id(sample.session_id[:-1])
    # a visible id's shortest prefix is short among what the viewer sees
    visible = sorted(team.visible_to(name))
    shown = seen.unique_prefixes(visible, shortest=1)
    assert {seen.resolve_id(prefix) for prefix in shown.values()} == set(visible)
    for session_id, prefix in shown.items():
        others = [other for other in visible if other != session_id]
        shortest = next(
            n for n in range(1, 99) if not any(o.startswith(session_id[:n]) for o in others)
        )
        assert prefix == session_id[:shortest]
    # a prefix all sessions share names only the visible ones when it is ambiguous
    with pytest.raises(AmbiguousSessionIdError) as ambiguous:
        seen.resolve_id("qx-")
    assert not _leaks(team, name, str(ambiguous.value))


@pytest.mark.parametrize("name", MEMBERS)
def test_team_totals_are_the_admins_totals(team: Team, name: str) -> None:
    def totals(store: SessionStore, by: tuple[str, ...]) -> list[dict[str, object]]:
        return sorted((asdict(b) for b in store.usage(by)), key=repr)

    for by in [(), ("day",), ("model",), ("project",)]:
        assert totals(team.as_(name), by) == totals(team.as_("root"), by)
    (whole,) = team.as_(name).usage()
    assert whole.sessions == len(SAMPLES)


def test_a_fork_of_a_hidden_session_names_no_parent(team: Team) -> None:
    bob = team.as_("bob")
    fork = bob.get_metadata("qx-zbobfork")
    assert fork is not None and fork.forked_from is None
    assert team.as_("root").get_metadata("qx-zbobfork").forked_from == "qx-zalicehidden"
    lineage = fork_tree(bob, "qx-zbobfork")
    shown = {node.session_id for node in lineage.root.walk()}
    assert shown == {"qx-zbobfork", "qx-zalicefork"}
    assert lineage.missing_origin is None
    every = {node.session_id for node in fork_tree(team.as_("root"), "qx-zbobfork").root.walk()}
    assert every == {"qx-zalicehidden", "qx-zbobfork", "qx-zalicefork"}


def test_alice_sees_her_forks_but_not_bobs_hidden_link(team: Team) -> None:
    lineage = fork_tree(team.as_("alice"), "qx-zalicefork")
    assert {node.session_id for node in lineage.root.walk()} == {"qx-zalicefork"}


def test_only_the_owner_or_an_admin_changes_a_session(team: Team) -> None:
    bob, alice = team.as_("bob"), team.as_("alice")
    shared = "qx-zaliceshared"
    changes = [
        lambda s: s.add_tags(shared, ["mine"]),
        lambda s: s.remove_tags(shared, ["mine"]),
        lambda s: s.set_description(shared, "bob was here"),
        lambda s: s.trash_session(shared),
        lambda s: visibility.share_session(s, shared, on=False),
    ]
    for change in changes:
        with pytest.raises(NotAllowedError, match="only the owner"):
            change(bob)
    assert team.store.get_metadata(shared).description is None
    assert team.store.get_metadata(shared).shared
    with pytest.raises(SessionNotFoundError):
        bob.add_tags("qx-zalicehidden", ["mine"])
    alice.add_tags(shared, ["hers"])
    team.as_("root").set_description(shared, "checked")
    assert team.store.get_metadata(shared).tags == ("hers",)
    alice.trash_session(shared)
    with pytest.raises(NotAllowedError):
        bob.restore_session(shared)
    for bulk in [bob.empty_trash, bob.restore_sessions, lambda: bob.cleanup_old_sessions(0)]:
        with pytest.raises(NotAllowedError, match="admin"):
            bulk()
    assert [m.session_id for m in team.store.list_trash()] == [shared]
    team.as_("root").restore_session(shared)


def test_changes_shares_and_exports_are_audited(team: Team) -> None:
    alice, root = team.as_("alice"), team.as_("root")
    alice.add_tags("qx-zalicehidden", ["x"])
    alice.set_description("qx-zalicehidden", "about it")
    root.trash_session("qx-zbobhidden")
    root.restore_session("qx-zbobhidden")
    visibility.share_session(alice, "qx-zalicehidden")
    visibility.record_exports(alice, ["qx-zalicehidden"], "markdown")
    root.delete_session("qx-zroothidden", purge=True)
    log = visibility.audit_log(root)
    made = [(e.actor, e.action, e.session_id) for e in log]
    shares = [("alice", "share", "qx-zaliceshared"), ("alice", "share", "qx-zalicefork")]
    assert made == [
        *shares,
        ("alice", "tag", "qx-zalicehidden"),
        ("alice", "describe", "qx-zalicehidden"),
        ("root", "trash", "qx-zbobhidden"),
        ("root", "restore", "qx-zbobhidden"),
        ("alice", "share", "qx-zalicehidden"),
        ("alice", "export", "qx-zalicehidden"),
        ("root", "delete", "qx-zroothidden"),
    ]
    assert log[2].detail == "x" and log[-2].detail == "markdown"
    assert visibility.audit_log(root, since=log[-1].at) == [log[-1]]
    with pytest.raises(NotAllowedError):
        visibility.audit_log(alice)


def test_a_user_who_shares_by_default_starts_each_session_shared(
    team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    visibility.set_share_by_default(team.store, "bob", True)
    monkeypatch.setenv(USER_ENV_VAR, "bob")
    team.store.save_session("qx-znewbob", [])
    monkeypatch.setenv(USER_ENV_VAR, "alice")
    team.store.save_session("qx-znewalice", [])
    assert team.as_("alice").get_metadata("qx-znewbob").shared
    assert not team.store.get_metadata("qx-znewalice").shared
    with pytest.raises(users.UserNotFoundError):
        visibility.set_share_by_default(team.store, "nobody", True)
