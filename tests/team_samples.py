"""A team store for the visibility tests: two members (alice, bob) and an admin (root),
and sessions of each, some shared. Each session's id, prompt and title carry its own
marker word, so a test finds any leak of it in an answer by that word alone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from claude_sessions import SessionStore
from claude_sessions.model.identity import USER_ENV_VAR
from claude_sessions.store import users, visibility


@dataclass(frozen=True)
class Sample:
    session_id: str
    owner: str
    shared: bool
    forked_from: str | None = None

    @property
    def marker(self) -> str:
        return self.session_id.split("-")[1]


# Markers share no prefix with one another, nor with anything a page shows.
SAMPLES = (
    Sample("qx-zalicehidden", "alice", False),
    Sample("qx-zaliceshared", "alice", True),
    Sample("qx-zbobhidden", "bob", False),
    Sample("qx-zroothidden", "root", False),
    # shares a long prefix with alice's shared one: her short ids must not tell it is there
    Sample("qx-zaliceshadow", "root", False),
    Sample("qx-zbobfork", "bob", False, forked_from="qx-zalicehidden"),
    Sample("qx-zalicefork", "alice", True, forked_from="qx-zbobfork"),
)
MEMBERS = ("alice", "bob")


def entries(session_id: str, marker: str) -> list[dict[str, Any]]:
    common = {"sessionId": session_id, "cwd": "/work/app", "isSidechain": False}
    return [
        {
            **common,
            "type": "user",
            "uuid": f"{session_id}-u",
            "parentUuid": None,
            "timestamp": "2026-03-02T10:00:00.000Z",
            "message": {"role": "user", "content": f"Please look at {marker} commonword"},
        },
        {
            **common,
            "type": "assistant",
            "uuid": f"{session_id}-a",
            "parentUuid": f"{session_id}-u",
            "timestamp": "2026-03-02T10:00:05.000Z",
            "message": {
                "id": f"msg-{session_id}",
                "model": "claude-sonnet-4-5-20250929",
                "role": "assistant",
                "content": [{"type": "text", "text": f"Looked at {marker} commonword"}],
                "usage": {"input_tokens": 1000, "output_tokens": 100},
            },
        },
    ]


@dataclass
class Team:
    store: SessionStore
    people: dict[str, users.User]
    tokens: dict[str, str]
    location: str = ""  # for a command line or a server to open

    def as_(self, name: str) -> SessionStore:
        return visibility.seen_by(self.store, self.people[name])

    def visible_to(self, name: str) -> set[str]:
        """The ids ``name`` may see, by the rule (computed here, not by the store)."""
        if self.people[name].admin:
            return {s.session_id for s in SAMPLES}
        return {s.session_id for s in SAMPLES if s.owner == name or s.shared}

    def hidden_from(self, name: str) -> list[Sample]:
        seen = self.visible_to(name)
        return [s for s in SAMPLES if s.session_id not in seen]


def make_team(store: SessionStore, monkeypatch: pytest.MonkeyPatch) -> Team:
    people, tokens = {}, {}
    for name in ("alice", "bob", "root"):
        people[name], tokens[name] = users.add_user(store, name, admin=name == "root")
    for sample in SAMPLES:
        monkeypatch.setenv(USER_ENV_VAR, sample.owner)
        store.save_session(
            sample.session_id,
            entries(sample.session_id, sample.marker),
            forked_from=sample.forked_from,
        )
        if sample.shared:
            visibility.share_session(
                visibility.seen_by(store, people[sample.owner]), sample.session_id
            )
    monkeypatch.delenv(USER_ENV_VAR)
    return Team(store, people, tokens, store.location)
