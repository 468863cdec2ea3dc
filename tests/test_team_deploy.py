"""What the README's Team server section ships and tells: the PostgreSQL role with only
the rights it needs (contrib/postgres-role.sql) runs ``serve --auth`` and an import, the
systemd unit (contrib/claude-sessions.service) is valid and its command line is one
``serve`` accepts, and a pg_dump restored into a fresh database holds the sessions and
the users."""

from __future__ import annotations

import configparser
import secrets
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
import pytest

from claude_sessions import SessionStore
from claude_sessions.store.users import list_users
from claude_sessions.testing.postgres import find_bindir

from .auth_server import ENV, add_user, command, sign_in, start
from .cli_transcripts import write_jsonl
from .web_samples import Transcript, populate

CONTRIB = Path(__file__).resolve().parent.parent / "contrib"
README = Path(__file__).resolve().parent.parent / "README.md"
ROLE_SQL = CONTRIB / "postgres-role.sql"
UNIT = CONTRIB / "claude-sessions.service"
SAMPLE_ROLE = "claude_sessions_app"


def _as_role(url: str, role: str, password: str) -> str:
    parts = urlsplit(url)
    host = f"{parts.hostname}:{parts.port}"
    netloc = f"{quote(role, safe='')}:{quote(password, safe='')}@{host}"
    return urlunsplit(parts._replace(netloc=netloc))


@pytest.fixture
def role_store(postgres_server: Any) -> Any:
    """A store its owner created, and the URL of a role made by the shipped SQL
    (under a name of its own: roles belong to the whole server)."""
    owner_url = postgres_server.create_database()
    SessionStore(owner_url, cleanup_after_days=None).close()  # the owner creates the schema
    role, password = f"cs_app_{secrets.token_hex(4)}", secrets.token_hex(16)
    script = ROLE_SQL.read_text().replace(SAMPLE_ROLE, role)
    with psycopg.connect(owner_url, autocommit=True) as conn:
        conn.execute(script)
        conn.execute(f"ALTER ROLE {role} PASSWORD '{password}'")
    yield owner_url, _as_role(owner_url, role, password)
    postgres_server.drop_database(owner_url.rsplit("/", 1)[1])
    with psycopg.connect(postgres_server.url, autocommit=True) as conn:
        conn.execute(f"DROP OWNED BY {role}")  # its default privileges, in no database now
        conn.execute(f"DROP ROLE {role}")


def test_the_readme_shows_the_role_sql_that_is_shipped() -> None:
    readme = README.read_text()
    for statement in ROLE_SQL.read_text().split(";"):
        lines = [line for line in statement.splitlines() if not line.startswith("--")]
        assert " ".join(" ".join(lines).split()) in " ".join(readme.split())


@pytest.mark.postgres
def test_the_role_serves_signs_in_and_imports_and_may_do_nothing_else(
    role_store: tuple[str, str], tmp_path: Path
) -> None:
    owner_url, app_url = role_store
    token = add_user(app_url, "alice", "--admin")  # sees the import, whoever ran it
    transcript = Transcript("7d0f6c1e-0000-4000-8000-00000000abcd")
    transcript.user("Import me through the team server's role")
    transcript.say("Imported.")
    write_jsonl(
        tmp_path / "projects" / "shop" / f"{transcript.session_id}.jsonl", transcript.entries
    )
    command(app_url, "import", str(tmp_path / "projects"))
    server = start(app_url, "--auth")
    try:
        page = server.request("GET", "/", {"Authorization": f"Bearer {token}"})
        assert page.status == 200 and "Import me through" in page.body
        assert sign_in(server, "alice", token).status == 303  # a sign-in kept in the store
    finally:
        server.stop()
    with psycopg.connect(app_url, autocommit=True) as conn:
        for forbidden in (
            "DROP TABLE claude_sessions.sessions",
            "CREATE TABLE claude_sessions.extra (x int)",
            "TRUNCATE claude_sessions.sessions",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(forbidden)
    with SessionStore(owner_url, cleanup_after_days=None) as store:
        assert store.get_metadata(transcript.session_id) is not None


def _unit() -> configparser.ConfigParser:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(UNIT)
    return unit


def test_the_systemd_unit_runs_a_serve_command_line_that_serve_accepts(tmp_path: Path) -> None:
    argv = shlex.split(_unit()["Service"]["ExecStart"])
    assert Path(argv[0]).name == "claude-sessions" and argv[1] == "serve"
    assert {"--auth", "--workers", "--forwarded-allow-ips"} <= set(argv)
    done = subprocess.run(
        [sys.executable, "-m", "claude_sessions", *argv[1:], "--help"],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        return
    # systemd checks that the program exists: this test's claude-sessions stands in.
    program = Path(sys.executable).parent / "claude-sessions"
    text = UNIT.read_text().replace(argv[0], str(program))
    copy = tmp_path / UNIT.name
    copy.write_text(text)
    checked = subprocess.run(
        [analyze, "verify", str(copy)], capture_output=True, text=True, timeout=60
    )
    assert checked.returncode == 0, checked.stderr


@pytest.mark.postgres
def test_a_pg_dump_restored_into_a_fresh_database_holds_the_sessions_and_users(
    postgres_server: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    source = postgres_server.create_database()
    monkeypatch.setenv("CLAUDE_SESSIONS_USER", "alice")
    with SessionStore(source, cleanup_after_days=None) as store:
        ids = populate(store, hostile=False)
    monkeypatch.delenv("CLAUDE_SESSIONS_USER")
    add_user(source, "alice")
    add_user(source, "root", "--admin")
    bindir = Path(find_bindir())
    dump = tmp_path / "sessions.dump"
    subprocess.run(
        [str(bindir / "pg_dump"), "--format=custom", "--file", str(dump), "--dbname", source],
        check=True,
        timeout=120,
    )
    target = postgres_server.create_database()
    subprocess.run(
        [str(bindir / "pg_restore"), "--no-owner", "--dbname", target, str(dump)],
        check=True,
        timeout=120,
    )
    try:
        with SessionStore(target, cleanup_after_days=None) as restored:
            found = {m.session_id for m in restored.list_sessions(limit=1000)}
            assert found == set(ids.values())
            users = {(u.name, u.admin) for u in list_users(restored)}
            assert users == {("alice", False), ("root", True)}
    finally:
        for url in (source, target):
            postgres_server.drop_database(url.rsplit("/", 1)[1])
