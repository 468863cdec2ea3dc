"""PostgreSQL locations: a password, whatever it holds, is never printed and never mangles the
rest (URLs typed raw or percent-encoded, passwords in the query, keyword/value strings).

Everything a user sees is checked: ``store.location``, ``repr``, the error of a server that
refuses the connection, ``claude-sessions path --json`` and ``copy``.
"""

from __future__ import annotations

import asyncio
import json
import shlex
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from click.testing import CliRunner
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from claude_sessions import (
    AsyncSessionStore,
    InvalidInputError,
    SessionStore,
    StoreConnectionError,
    StoreError,
)
from claude_sessions.capture.hooks import hook_command
from claude_sessions.cli import cli
from claude_sessions.mcp.install import server_entry
from claude_sessions.store.location import mask_password, parse_postgres, sqlite_path
from claude_sessions.testing.postgres import free_port

from .store_samples import run

# Passwords made of these words and the characters a URL gives meaning to: a printed
# word is a leak, whatever was masked around it.
WORDS = ("Wr0ng", "S3cret")
SPECIAL_PASSWORDS = [
    "Wr0ng?S3cret",
    "Wr0ng/%S3cret",
    "Wr0ng/%zzS3cret",
    "Wr0ng%S3cret",
    "Wr0ng@S3cret",
    "Wr0ng:S3cret",
    "Wr0ng#S3cret",
    "Wr0ng S3cret",
    "Wr0ng&S3cret=x",
    "?Wr0ng/S3@c:r#e t%/",
]
USER = "app"
HOST = "127.0.0.1"
# A password equal to another part of the URL: masking must not eat that part.
LOOKALIKE_PASSWORDS = [USER, "postgresql", "postgres", HOST, "db", "sslmode", ""]


def refused_url(typed_password: str, *, scheme: str = "postgresql") -> tuple[str, str]:
    """A URL of a port nobody listens on, and how it must be shown."""
    port = free_port()
    url = f"{scheme}://{USER}:{typed_password}@{HOST}:{port}/db?sslmode=disable"
    return url, f"{scheme}://{USER}:***@{HOST}:{port}/db?sslmode=disable"


def assert_no_words(text: str) -> None:
    assert not any(word in text for word in WORDS), text


def path_json(location: str):
    return CliRunner().invoke(cli, ["path", "--json", "--store", location])


def printed_error(result) -> str:
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


def check_refused(url: str, shown: str) -> None:
    """Every face shows ``shown`` exactly where the location goes, and nothing more of it."""
    with pytest.raises(StoreConnectionError) as caught:
        SessionStore(url, cleanup_after_days=None)
    message = str(caught.value)
    assert message.startswith(f"cannot connect to the PostgreSQL session store at {shown}: ")
    assert f"Error: {message}" == printed_error(path_json(url))


# -- what is shown -----------------------------------------------------------------------


@pytest.mark.parametrize("password", SPECIAL_PASSWORDS)
@pytest.mark.parametrize("encoded", [False, True], ids=["raw", "percent-encoded"])
def test_special_characters_in_the_password_are_masked(password: str, encoded: bool) -> None:
    typed = quote(password, safe="") if encoded else password
    url, shown = refused_url(typed)
    location = parse_postgres(url)
    assert location.display == shown
    assert location.password == password
    assert mask_password(f"at {url.replace(' ', '%20')} now") == f"at {shown} now"
    check_refused(url, shown)


def test_libpq_gets_the_password_apart_from_the_url_it_could_quote() -> None:
    for password in SPECIAL_PASSWORDS:
        url, _ = refused_url(password)
        location = parse_postgres(url)
        assert location.password == password
        assert_no_words(location.conninfo)


@pytest.mark.parametrize("password", LOOKALIKE_PASSWORDS)
@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_a_password_like_another_part_leaves_that_part_alone(password: str, scheme: str) -> None:
    url, shown = refused_url(password, scheme=scheme)
    location = parse_postgres(url)
    assert location.display == shown
    assert location.password == password
    assert mask_password(url) == shown
    check_refused(url, shown)


@pytest.mark.parametrize("password", [*SPECIAL_PASSWORDS, USER, "postgresql"])
def test_a_password_in_the_query_is_masked(password: str) -> None:
    port = free_port()
    base = f"postgresql://{USER}@{HOST}:{port}/db"
    url = f"{base}?sslmode=disable&password={quote(password, safe='')}&connect_timeout=5"
    shown = f"{base}?sslmode=disable&password=***&connect_timeout=5"
    location = parse_postgres(url)
    assert (location.display, location.password) == (shown, password)
    check_refused(url, shown)


def test_the_rest_of_the_url_is_shown_as_typed() -> None:
    url = (
        "postgres://Me%40corp:Wr0ng/S3cret@db1:5432,[::1]:5433/my%20db?sslmode=disable"
        "&options=-c%20statement_timeout%3D5s&application_name=a@b&schema=team_a"
    )
    location = parse_postgres(url)
    assert location.display == url.replace(":Wr0ng/S3cret@", ":***@")
    assert (location.password, location.schema, location.options) == (
        "Wr0ng/S3cret",
        "team_a",
        "-c statement_timeout=5s",
    )
    assert location.conninfo == (
        "postgresql://Me%40corp@db1:5432,[::1]:5433/my%20db?sslmode=disable&application_name=a@b"
    )
    no_user = "postgresql://db/x@y?application_name=a@b"
    assert parse_postgres(no_user).display == no_user


def test_a_url_that_cannot_be_read_is_refused_without_showing_it() -> None:
    url = "postgresql://app:Wr0ng@S3cret@bad!host/db"
    with pytest.raises(StoreError, match="percent-encode") as caught:
        parse_postgres(url)
    assert_no_words(str(caught.value))
    assert mask_password(f"see {url}") == "see postgresql://***"
    assert_no_words(printed_error(path_json(url)))


def test_an_unknown_scheme_is_refused_with_its_password_masked() -> None:
    with pytest.raises(StoreError) as caught:
        sqlite_path("mysql://app:Wr0ng S3cret@db/x")
    assert "mysql://app:***@db/x" in str(caught.value)
    assert_no_words(str(caught.value))


# -- keyword/value connection strings ---------------------------------------------------


def test_a_keyword_string_is_a_postgresql_location_shown_without_its_password() -> None:
    port = free_port()
    text = f"host={HOST} port={port} dbname=db user={USER} password='Wr0ng S3cret\\'s'"
    assert sqlite_path(text) is None
    location = parse_postgres(text)
    assert location.password == "Wr0ng S3cret's"
    assert_no_words(location.display + location.conninfo)
    expected = {"host": HOST, "port": str(port), "dbname": "db", "user": USER}
    assert conninfo_to_dict(location.display) == {**expected, "password": "***"}
    assert conninfo_to_dict(location.conninfo) == expected
    with pytest.raises(StoreConnectionError) as caught:
        SessionStore(text, cleanup_after_days=None)
    assert_no_words(str(caught.value))
    assert_no_words(printed_error(path_json(text)))


def test_a_keyword_string_is_registered_as_it_is_not_as_a_path() -> None:
    text = f"host=db dbname=claude user={USER} sslmode=disable"
    entry = server_entry(text)
    assert entry["env"] == {"CLAUDE_SESSIONS_STORE": text}  # out of the arguments
    assert_no_words(" ".join(entry["args"]))
    assert shlex.split(hook_command(text))[-2:] == ["--store", text]
    with pytest.raises(InvalidInputError, match="--server"):  # laptops hold no password
        hook_command(f"{text} password=Wr0ngS3cret")


def test_an_unreadable_keyword_string_is_refused_without_quoting_it() -> None:
    for text in ("host=db password=Wr0ng S3cret", "host=db schema=Wr0ngS3cret"):
        with pytest.raises(StoreError, match="cannot read the PostgreSQL connection") as caught:
            parse_postgres(text)
        assert_no_words(str(caught.value))
        assert_no_words(printed_error(path_json(text)))


# -- on a real server, with a role whose password holds them all ----------------------------


@pytest.fixture
def role(postgres_url: str, postgres_database: str) -> Iterator[str]:
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS cs_mask")
        conn.execute("CREATE ROLE cs_mask LOGIN NOSUPERUSER NOCREATEDB")
    with psycopg.connect(postgres_database, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA claude_sessions AUTHORIZATION cs_mask")
    yield "cs_mask"
    with psycopg.connect(postgres_database, autocommit=True) as conn:
        conn.execute("DROP OWNED BY cs_mask CASCADE")
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("DROP ROLE cs_mask")


def set_password(postgres_url: str, role: str, password: str) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        statement = sql.SQL("ALTER ROLE {} PASSWORD {}")
        conn.execute(statement.format(sql.Identifier(role), sql.Literal(password)))


def address_of(database_url: str) -> tuple[str, str]:
    """``host:port`` and the database name of a ``postgresql://user:pw@host:port/db`` URL."""
    rest = database_url.split("@", 1)[1]
    host_port, database = rest.split("/", 1)
    return host_port, database


@pytest.mark.postgres
@pytest.mark.parametrize("password", ["?Wr0ng/S3@c:r#e t%/", "cs_mask", "postgresql", HOST])
def test_a_real_server_gets_the_password_and_nobody_sees_it(
    postgres_url: str, postgres_database: str, role: str, password: str
) -> None:
    set_password(postgres_url, role, password)
    host_port, database = address_of(postgres_database)
    url = f"postgresql://{role}:{password}@{host_port}/{database}"
    shown = f"postgresql://{role}:***@{host_port}/{database}"
    with SessionStore(url, cleanup_after_days=None) as store:
        store.save_session("s-1", run("s-1"))
        assert store.location == shown
        assert repr(store) == f"SessionStore({shown!r})"
    result = path_json(url)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["location"] == shown
    assert_no_words(result.output)

    async def load_async() -> int:
        async with AsyncSessionStore(url, cleanup_after_days=None) as store:
            assert (store.location, repr(store)) == (shown, f"AsyncSessionStore({shown!r})")
            return (await store.load_session("s-1")).metadata.message_count

    assert asyncio.run(load_async()) == 3


@pytest.mark.postgres
def test_a_keyword_string_opens_the_store_and_copy_keeps_it_secret(
    postgres_url: str,
    postgres_database: str,
    role: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)  # a location read as a relative path would land here
    password = "Wr0ng S3cret's/?@#%"
    set_password(postgres_url, role, password)
    host_port, database = address_of(postgres_database)
    host, port = host_port.rsplit(":", 1)
    escaped = password.replace("\\", "\\\\").replace("'", "\\'")
    text = f"host={host} port={port} dbname={database} user={role} password='{escaped}'"
    source = tmp_path / "source"
    with SessionStore(source, cleanup_after_days=None) as store:
        store.save_session("s-1", run("s-1"))
    runner = CliRunner()
    copied = runner.invoke(cli, ["copy", "--from", str(source), "--to", text, "--json"])
    assert copied.exit_code == 0, copied.output
    assert_no_words(copied.output)
    report = json.loads(copied.stdout)
    assert report["ok"] and report["sessions"] == 1
    assert conninfo_to_dict(report["destination"]) == {
        "host": host,
        "port": port,
        "dbname": database,
        "user": role,
        "password": "***",
    }
    back = runner.invoke(cli, ["copy", "--from", text, "--to", str(tmp_path / "back")])
    assert back.exit_code == 0, back.output
    assert_no_words(back.output)
    with SessionStore(text, cleanup_after_days=None) as store:
        assert store.load_session("s-1").metadata.message_count == 3
        assert_no_words(store.location + repr(store))
