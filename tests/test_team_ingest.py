"""``POST /api/v1/ingest`` on a real ``serve --auth`` process, on both databases: a
laptop's batch of a real transcript (with its subagents) lands as the token's user on
the body's machine, as ``import`` of the same files stores it, once however often it is
sent; every refusal (401, 403, 409, 413, 400) stores nothing."""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from claude_sessions import SessionStore
from claude_sessions.importer import import_transcripts

from .auth_server import Server, signed_in_cookie, start
from .team_ingest_helpers import (
    MAIN,
    PROJECT,
    SESSION,
    SUBAGENTS,
    batch,
    bearer,
    fixture_files,
    post,
    rows,
    serve_team,
)
from .team_samples import Team
from .transcript_ledger import build_ledger

pytestmark = pytest.mark.e2e
LIMIT = 64 * 1024


@pytest.fixture
def served(store_location: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Server, Team]]:
    yield from serve_team(store_location, monkeypatch, "--ingest-limit", str(LIMIT))


def _one_session_root(tmp_path: Path) -> Path:
    """A config dir holding only the fixture session's transcripts."""
    root = tmp_path / "config"
    target = root / "projects" / PROJECT
    (target / SESSION / "subagents").mkdir(parents=True)
    shutil.copy(MAIN, target / MAIN.name)
    for path in SUBAGENTS:
        shutil.copy(path, target / SESSION / "subagents" / path.name)
    return root


def _sent_in_parts(server: Server, token: str) -> list[dict[str, Any]]:
    """The fixture session sent as a capture sends it: a few entries at a time, each part
    under the limit; the reports."""
    reports = []
    for file in fixture_files():
        entries = file["entries"]
        for start_at in range(0, len(entries), 20):
            part = {"subpath": file["subpath"], "entries": entries[start_at : start_at + 20]}
            reply = post(server, batch([part]), bearer(token))
            assert reply.status == 200, reply.body
            reports.append(reply.json())
    return reports


def _figures(store: SessionStore) -> tuple[Any, ...]:
    data = store.load_session(SESSION, subagents=True)
    meta = data.metadata
    kept = [
        *("message_count", "turns", "total_cost", "input_tokens", "output_tokens"),
        *("subagent_cost", "subagent_input_tokens", "subagent_output_tokens"),
        *("cache_read_tokens", "model", "title", "first_prompt", "project", "git_branch"),
        *("tags", "created_at", "updated_at"),
    ]
    messages = [m.to_dict() for m in data.messages]
    subagents = {key: [m.to_dict() for m in value] for key, value in data.subagents.items()}
    return tuple(getattr(meta, name) for name in kept), messages, subagents


def test_a_batch_lands_as_its_import_does_as_the_senders(
    served: tuple[Server, Team], tmp_path: Path
) -> None:
    server, team = served
    reports = _sent_in_parts(server, team.tokens["alice"])
    lines = {f["subpath"]: f["entries"] for f in fixture_files()}
    assert sum(r["stored"] for r in reports) == sum(map(len, lines.values()))
    assert [r["duplicates"] for r in reports] == [0] * len(reports)
    assert all(r["conflicts"] == [] and r["session_id"] == SESSION for r in reports)
    root = _one_session_root(tmp_path)
    ledger = build_ledger(root).sessions[SESSION]
    with SessionStore(team.location, cleanup_after_days=None) as store:
        meta = store.get_metadata(SESSION)
        assert meta is not None
        assert (meta.user, meta.machine) == ("alice", "laptop-a")
        assert meta.project_key == PROJECT
        assert meta.message_count == len(lines[""])
        assert (meta.input_tokens, meta.output_tokens) == ledger.tokens_total
        assert (meta.subagent_input_tokens, meta.subagent_output_tokens) == (
            ledger.tokens_subagents
        )
        assert meta.total_cost == pytest.approx(ledger.cost_total, abs=1e-9)
        ingested = _figures(store)
    with SessionStore(str(tmp_path / "imported.db"), cleanup_after_days=None) as imported:
        import_transcripts(imported, [root])
        assert ingested == _figures(imported)
    assert ingested[1] == lines[""]
    assert ingested[2] == {key: value for key, value in lines.items() if key}


def test_the_same_batch_twice_is_stored_once_and_a_changed_entry_is_a_conflict(
    served: tuple[Server, Team],
) -> None:
    server, team = served
    files = [{"subpath": f["subpath"], "entries": f["entries"][:15]} for f in fixture_files()]
    without_uuid = [e for e in fixture_files()[0]["entries"] if "uuid" not in e]
    assert without_uuid  # kept once by their exact JSON
    files[0]["entries"] += without_uuid
    sent = sum(len(f["entries"]) for f in files)
    first = post(server, batch(files), bearer(team.tokens["alice"]))
    distinct = sum(
        len({e.get("uuid") or json.dumps(e, sort_keys=True) for e in f["entries"]}) for f in files
    )
    assert distinct < sent  # the snapshots without a uuid, sent twice in it
    assert first.status == 200
    assert (first.json()["stored"], first.json()["duplicates"]) == (distinct, sent - distinct)
    before = rows(team.location)
    again = post(server, batch(files), bearer(team.tokens["alice"]))
    assert again.json() == {"session_id": SESSION, "stored": 0, "duplicates": sent, "conflicts": []}
    assert rows(team.location) == before
    original = files[1]["entries"][3]
    changed = copy.deepcopy(original)
    changed["message"] = {"role": "user", "content": "not what was said"}
    reply = post(
        server,
        batch([{"subpath": files[1]["subpath"], "entries": [changed]}]),
        bearer(team.tokens["alice"]),
    )
    found = reply.json()
    assert found["stored"] == 1 and found["duplicates"] == 0
    assert [(c["subpath"], c["uuid"]) for c in found["conflicts"]] == [
        (files[1]["subpath"], original["uuid"])
    ]
    with SessionStore(team.location, cleanup_after_days=None) as store:
        subagent = store.load_session(SESSION, subagents=True).subagents[files[1]["subpath"]]
    held = [m.to_dict() for m in subagent]
    assert held[3] == original  # the stored entry is unchanged; the other one kept after
    assert held[-1] == changed
    once_more = post(
        server,
        batch([{"subpath": files[1]["subpath"], "entries": [changed, original]}]),
        bearer(team.tokens["alice"]),
    )
    assert once_more.json() == {
        "session_id": SESSION,
        "stored": 0,
        "duplicates": 2,
        "conflicts": [],
    }


def test_a_line_repeated_word_for_word_is_kept_once_per_place(
    served: tuple[Server, Team],
) -> None:
    """Claude Code writes some lines without a uuid twice, word for word: with the places
    the laptop read them at, each line is kept, as an import of the file keeps it."""
    server, team = served
    route = {"type": "api-request-route", "route": "direct"}
    said = {"type": "user", "uuid": "u-1", "message": {"role": "user", "content": "hi"}}
    part = {"subpath": "", "entries": [route, said, route], "places": [0, 60, 170]}
    first = post(server, batch([part]), bearer(team.tokens["alice"]))
    assert (first.json()["stored"], first.json()["duplicates"]) == (3, 0)
    again = post(server, batch([part]), bearer(team.tokens["alice"]))
    assert (again.json()["stored"], again.json()["duplicates"]) == (0, 3)
    with SessionStore(team.location, cleanup_after_days=None) as store:
        kept = [m.to_dict() for m in store.load_session(SESSION).messages]
    assert kept == [route, said, route]


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth):
        value = {"x": value}
    return value


MALFORMED: list[tuple[str, bytes | dict[str, Any]]] = [
    ("not JSON", b"{not json"),
    ("NaN", b'{"session_id": NaN}'),
    ("a list", b"[]"),
    ("no files", {k: v for k, v in batch([]).items() if k != "files"}),
    ("files not a list", batch({"subpath": "", "entries": []})),  # type: ignore[arg-type]
    ("entries not a list", batch([{"subpath": "", "entries": {}}])),
    ("an entry not an object", batch([{"subpath": "", "entries": [{"uuid": "u"}, 3]}])),
    ("a file with more", batch([{"subpath": "", "entries": [], "path": "/etc/passwd"}])),
    ("subpath escapes", batch([{"subpath": "../../x", "entries": [{"uuid": "u"}]}])),
    ("subpath absolute", batch([{"subpath": "/x", "entries": [{"uuid": "u"}]}])),
    ("bad session id", batch([{"subpath": "", "entries": [{"uuid": "u"}]}], session_id="../x")),
    ("no machine", batch([{"subpath": "", "entries": [{"uuid": "u"}]}], machine=" ")),
    ("cwd a number", batch([{"subpath": "", "entries": [{"uuid": "u"}]}], cwd=3)),
    ("project key null", batch([{"subpath": "", "entries": []}], project_key=None)),
    ("places too few", batch([{"subpath": "", "entries": [{"type": "x"}], "places": []}])),
    ("a place not a number", batch([{"subpath": "", "entries": [{}], "places": ["7"]}])),
    ("a place below 0", batch([{"subpath": "", "entries": [{}], "places": [-1]}])),
    # the first file is fine and would land first: the second fails in the store
    (
        "too deep after a good file",
        batch(
            [
                {"subpath": "", "entries": [{"uuid": "fine", "type": "user"}]},
                {"subpath": "subagents/agent-x", "entries": [{"uuid": "deep", **_nested(600)}]},
            ]
        ),
    ),
]


def test_a_malformed_batch_is_refused_with_400_and_nothing_stored(
    served: tuple[Server, Team],
) -> None:
    server, team = served
    before = rows(team.location)
    for name, body in MALFORMED:
        reply = post(server, body, bearer(team.tokens["alice"]))
        assert reply.status == 400, (name, reply.body)
        reason = reply.json()["error"]
        assert reason and "\n" not in reason, name
        assert rows(team.location) == before, name


def test_over_the_limit_is_413_with_or_without_a_length(served: tuple[Server, Team]) -> None:
    server, team = served
    filler = [{"uuid": f"u{i}", "type": "user", "text": "x" * 1000} for i in range(LIMIT // 1000)]
    big = batch([{"subpath": "", "entries": filler}])
    assert len(json.dumps(big)) > LIMIT
    before = rows(team.location)
    for chunked in (False, True):
        reply = post(server, big, bearer(team.tokens["alice"]), chunked=chunked)
        assert reply.status == 413, (chunked, reply.body)
        assert str(LIMIT) in reply.json()["error"]
    assert rows(team.location) == before
    small = batch([{"subpath": "", "entries": filler[:10]}])  # the same, under the limit
    assert post(server, small, bearer(team.tokens["alice"]), chunked=True).status == 200


def test_only_a_valid_bearer_token_may_send(served: tuple[Server, Team]) -> None:
    server, team = served
    body = batch([{"subpath": "", "entries": [{"uuid": "u1", "type": "user"}]}])
    cookie = {"Cookie": signed_in_cookie(server, "alice", team.tokens["alice"])}
    before = rows(team.location)
    for headers in ({}, bearer("cs_0123456789abcdef_wrong"), bearer(""), cookie):
        reply = post(server, body, headers)
        assert reply.status == 401, (headers, reply.body)
        assert "error" in reply.json()
    assert rows(team.location) == before


def test_another_users_session_is_refused_with_409(served: tuple[Server, Team]) -> None:
    server, team = served
    with SessionStore(team.location, cleanup_after_days=None) as store:
        held = store.get_metadata("qx-zalicehidden")
    assert held is not None and held.user == "alice"
    before = rows(team.location)
    entries = [{"uuid": "bob-writes", "type": "user", "message": {"role": "user", "content": "x"}}]
    for key in (held.project_key, "another-project"):
        body = batch(
            [{"subpath": "", "entries": entries}], session_id="qx-zalicehidden", project_key=key
        )
        reply = post(server, body, bearer(team.tokens["bob"]))
        assert reply.status == 409, reply.body
    assert rows(team.location) == before
    mine = post(server, body, bearer(team.tokens["alice"]))  # hers: it lands
    assert mine.status == 200 and mine.json()["stored"] == 1


def test_a_session_in_the_trash_is_left_be_as_an_import_leaves_it(
    served: tuple[Server, Team],
) -> None:
    server, team = served
    entries = [{"uuid": "t1", "type": "user", "message": {"role": "user", "content": "x"}}]
    first = post(server, batch([{"subpath": "", "entries": entries}]), bearer(team.tokens["bob"]))
    assert first.status == 200
    with SessionStore(team.location, cleanup_after_days=None) as store:
        assert store.trash_session(SESSION)
    before = rows(team.location)
    more = [*entries, {"uuid": "t2", "type": "user", "message": {"role": "user", "content": "y"}}]
    for name in ("bob", "alice"):  # his, in the trash; and not hers to write into
        reply = post(server, batch([{"subpath": "", "entries": more}]), bearer(team.tokens[name]))
        assert reply.status == 409, (name, reply.body)
    assert (
        "trash"
        in json.loads(
            post(server, batch([{"subpath": "", "entries": more}]), bearer(team.tokens["bob"])).body
        )["error"]
    )
    assert rows(team.location) == before


def test_a_server_without_sign_in_takes_no_batch(
    store_location: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with SessionStore(store_location, cleanup_after_days=None) as store:
        store.save_session("s-local", [{"uuid": "a", "type": "user"}])
    server = start(store_location, "--no-auth")
    try:
        before = rows(store_location)
        body = batch([{"subpath": "", "entries": [{"uuid": "u1", "type": "user"}]}])
        reply = post(server, body, {})
        assert reply.status == 403 and "--auth" in reply.json()["error"]
        assert rows(store_location) == before
    finally:
        server.process.kill()
        server.process.wait()


def test_every_worker_keeps_the_limit(store_location: str, monkeypatch: pytest.MonkeyPatch) -> None:
    limit = 4096
    for server, team in serve_team(
        store_location, monkeypatch, "--workers", "2", "--ingest-limit", str(limit)
    ):
        filler = [{"uuid": f"w{i}", "type": "user", "text": "x" * 500} for i in range(10)]
        for _ in range(4):  # whichever worker answers
            over = post(
                server, batch([{"subpath": "", "entries": filler}]), bearer(team.tokens["bob"])
            )
            assert over.status == 413 and str(limit) in over.json()["error"]
        under = post(
            server, batch([{"subpath": "", "entries": filler[:2]}]), bearer(team.tokens["bob"])
        )
        assert under.status == 200 and under.json()["stored"] == 2
