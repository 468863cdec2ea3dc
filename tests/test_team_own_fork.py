"""Bob continues alice's session (issue 27 follow-up): his turns become his own fork,
on his laptop and on the team server, whether he resumes it with ``claude-sessions
resume`` or with ``claude --resume`` himself; nothing stays in his backlog. The
two-laptop set-up of test_team_sync: a real ``serve --auth`` on PostgreSQL, the real
Claude Code CLI against the fake Messages API running the capture hook."""

from __future__ import annotations

import json
from typing import Any

import pytest

from claude_sessions import SessionStore

from .test_team_sync import Laptop, Team, _share, laptops, lines_of, team

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]
__all__ = ["laptops", "team"]  # the fixtures this module uses


def _bobs_sessions(team: Team) -> dict[str, tuple[str, str | None]]:
    """Bob's sessions on the server: id -> (machine, the session it was forked from)."""
    rows = team.rows(
        "SELECT session_id, machine, forked_from FROM sessions WHERE user_name = 'bob'"
    )
    return {str(sid): (str(machine), origin) for sid, machine, origin in rows}


def _synced_nothing(bob: Laptop) -> None:
    sent = json.loads(bob.cs("sync", "--json").stdout)
    assert (sent["sent"], sent["refused"], sent["forked"]) == (0, [], [])
    assert "backlog: 0 entries of 0 sessions" in bob.cs("hooks", "status").stdout


def test_bob_continues_alices_session_as_his_own_fork(
    team: Team, laptops: dict[str, Laptop], fake_claude: Any
) -> None:
    alice, bob = laptops["alice"], laptops["bob"]
    hers = alice.claude("first question of the shared one")["session_id"]
    _share(team, "alice", hers)
    her_entries = team.entries(hers)
    assert her_entries == lines_of(alice.transcripts(hers))
    bob.cs("sync", "--pull")

    fake_claude.clear()
    done = bob.cs("resume", hers[:8], "bob's own question", "--json")
    fork = json.loads(done.stdout)["session_id"]
    said = [line for line in done.stderr.splitlines() if "fork" in line]
    assert len(said) == 1 and "alice's" in said[0] and hers in said[0] and fork in said[0]
    assert fork != hers
    assert "first question of the shared one" in fake_claude.model_requests[-1].all_text
    assert _bobs_sessions(team) == {fork: ("laptop-b", hers)}
    assert team.entries(fork) == lines_of(bob.transcripts(fork))
    assert team.entries(hers) == her_entries  # hers is as she left it
    with SessionStore(str(bob.store), cleanup_after_days=None) as local:
        meta = local.get_metadata(fork)
        assert meta is not None and (meta.user, meta.forked_from) == ("bob", hers)
    _synced_nothing(bob)


def test_bobs_turns_in_her_session_reach_the_server_as_his_own_fork(
    team: Team, laptops: dict[str, Laptop]
) -> None:
    """Bob runs Claude Code on her session himself: his turns land in her session on his
    laptop, and reach the server as his own fork of it, never refused forever."""
    alice, bob = laptops["alice"], laptops["bob"]
    hers = alice.claude("first question of the shared one")["session_id"]
    _share(team, "alice", hers)
    her_entries = team.entries(hers)
    bob.cs("sync", "--pull")
    bob.cs("write-back", hers)  # her transcript, where his Claude Code finds it

    bob.claude("--resume", hers, "bob resumes it himself")
    assert "as your fork" in bob.log()
    ((redirected, (machine, origin)),) = _bobs_sessions(team).items()
    assert (machine, origin) == ("laptop-b", hers)
    assert team.entries(redirected) == lines_of(bob.transcripts(hers))
    assert team.entries(hers) == her_entries
    _synced_nothing(bob)

    bob.claude("--resume", hers, "and once more")  # straight into the same fork
    assert set(_bobs_sessions(team)) == {redirected}
    assert team.entries(redirected) == lines_of(bob.transcripts(hers))
    _synced_nothing(bob)
