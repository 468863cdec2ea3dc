"""The edges, tried as a careless user and as an attacker would: out-of-range input,
passwords in URLs, read-only and shared stores, file modes, links in the transcript tree.

Command-line cases run the real ``claude-sessions`` in a subprocess.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import stat
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from claude_sessions import (
    InvalidQueryError,
    InvalidSessionIdError,
    SessionStore,
    StoreConnectionError,
    StoreReadOnlyError,
)
from claude_sessions.importer import import_transcripts
from claude_sessions.store.location import mask_password, parse_postgres
from claude_sessions.testing.postgres import free_port

from .store_samples import run
from .transcript_samples import conversation, project_dir, sid, write


def _library_for_other_users(store: Path, destination: Path) -> str:
    """Our package and every other one the commands below load, copied where any user
    can read them (the checkout and its virtualenv may sit in a private directory, as
    a fresh clone in ``mktemp -d`` does); returns the PYTHONPATH to use."""
    probe = (
        "import contextlib, json, sys, sysconfig\n"
        "import claude_sessions.cli.manage\n"
        "from claude_sessions.cli import main\n"
        f"for args in (['list', '--store', {str(store)!r}], ['show', 's-1', '--store', "
        f"{str(store)!r}]):\n"
        "    with contextlib.suppress(SystemExit): main(args)\n"
        "base = {'base': sys.base_prefix, 'platbase': sys.base_exec_prefix}\n"
        "stdlib = {sysconfig.get_paths(vars=base)[k] for k in ('stdlib', 'platstdlib')}\n"
        "found = {}\n"
        "for name, module in list(sys.modules.items()):\n"
        "    where = getattr(module, '__file__', None)\n"
        "    if '.' not in name and where and not where.startswith(tuple(stdlib)):\n"
        "        found[name] = where\n"
        "print('@@' + json.dumps(found))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    library = destination / "lib"
    library.mkdir()
    for name, where in json.loads(done.stdout.rsplit("@@", 1)[1]).items():
        source = Path(where)
        if source.name == "__init__.py":
            shutil.copytree(source.parent, library / name)
        else:
            shutil.copy2(source, library / source.name)
    for path in (library, *library.rglob("*")):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return str(library)


def _python_for_other_users() -> str:
    """An interpreter another user can run: this one, or (under a private home, as
    pyenv's under /root) the system's Python of the same version."""
    parents = Path(sys.executable).resolve().parents
    if all(stat.S_IMODE(parent.stat().st_mode) & 0o001 for parent in parents):
        return sys.executable
    system = f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}"
    assert Path(system).exists(), f"no Python another user can run (tried {system})"
    return system


def cli(
    *args: str | bytes,
    env: dict[str, str] | None = None,
    user: str | None = None,
    library: str | None = None,
):
    """Run ``claude-sessions`` (optionally as another user, finding our code and its
    dependencies in ``library``); returns the finished process."""
    command: list[str | bytes] = [sys.executable, "-m", "claude_sessions", *args]
    environment = {**os.environ, "CLAUDE_SESSIONS_CLEANUP_DAYS": "never", **(env or {})}
    switch = None
    if user is not None:
        assert library is not None
        account = pwd.getpwnam(user)
        command[0] = _python_for_other_users()
        environment |= {"HOME": "/tmp", "PYTHONPATH": library, "PYTHONNOUSERSITE": "1"}

        def switch() -> None:
            os.setgid(account.pw_gid)
            os.setuid(account.pw_uid)

    return subprocess.run(
        command, capture_output=True, env=environment, timeout=60, preexec_fn=switch
    )


def one_line_error(result: subprocess.CompletedProcess[bytes], code: int) -> str:
    stderr = result.stderr.decode()
    assert result.returncode == code, stderr
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ")
    return lines[0]


# -- out-of-range input ----------------------------------------------------------------------


@pytest.fixture
def filled(tmp_path: Path) -> str:
    location = str(tmp_path / "store")
    with SessionStore(location, cleanup_after_days=None) as store:
        store.save_session("s-1", run("s-1", text="foo bar baz"))
    return location


@pytest.mark.parametrize(
    "args",
    [
        ["search", "--after", "1000000d"],
        ["search", "--limit", "99999999999999999999"],
        ["cleanup", "--older-than", "1000000000d", "--dry-run"],
        ["show", b"bad\xffid"],
        ["search", "x*"],
    ],
)
def test_out_of_range_input_is_a_one_line_error(filled: str, args: list[str | bytes]) -> None:
    one_line_error(cli(*args, "--store", filled), 2)


def test_far_dates_and_odd_words_just_work(filled: str) -> None:
    far = cli("search", "--before", "9999-12-31", "--json", "--store", filled)
    assert far.returncode == 0 and [s["session_id"] for s in json.loads(far.stdout)] == ["s-1"]
    odd = cli("search", "foo:bar", "--json", "--store", filled)
    assert odd.returncode == 0 and [s["session_id"] for s in json.loads(odd.stdout)] == ["s-1"]


def test_out_of_range_input_in_the_library(store) -> None:
    store.save_session("s-1", run("s-1", text="foo bar"))
    assert [m.session_id for m in store.search(before=date(9999, 12, 31))] == ["s-1"]
    assert [m.session_id for m in store.search(text="foo:bar")] == ["s-1"]
    assert store.cleanup_old_sessions(max_age_days=1e12) == 0
    with pytest.raises(InvalidQueryError, match="at most"):
        store.search(limit=2**70)
    with pytest.raises(InvalidSessionIdError):
        store.get_session("bad\ud800id")
    with pytest.raises(InvalidQueryError, match="different terms"):
        store.search(text=" OR ".join(f"w{n}" for n in range(40)))
    assert [m.session_id for m in store.search(text=" ".join(["foo"] * 40))] == ["s-1"]


# -- passwords --------------------------------------------------------------------------------

SECRET = "Wr0ng/P@ss:w0rd"


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://app:{SECRET}@127.0.0.1:{{port}}/db",
        "postgresql://app:Wr0ng/Pass@127.0.0.1:{port}/db",
        "postgres://app:p%2Fss%40Wr0ngPass@127.0.0.1:{port}/db",
        "postgresql://app@127.0.0.1:{port}/db?password=Wr0ng/Pass&sslmode=disable",
    ],
)
def test_passwords_are_masked_in_every_form(url: str) -> None:
    url = url.format(port=free_port())
    secrets = ["Wr0ng", "Pass", "P@ss", "w0rd", "p%2Fss", "p/ss"]
    shown = mask_password(url)
    assert not any(secret in shown for secret in secrets), shown
    assert not any(secret in parse_postgres(url).display for secret in secrets)
    with pytest.raises(StoreConnectionError) as caught:
        SessionStore(url, cleanup_after_days=None)
    assert not any(secret in str(caught.value) for secret in secrets), str(caught.value)
    result = cli("path", "--json", "--store", url)
    output = (result.stdout + result.stderr).decode()
    assert not any(secret in output for secret in secrets), output
    one_line_error(result, 1)


# -- read-only and shared stores -----------------------------------------------------------


@pytest.fixture
def shared_dir() -> Path:
    """A directory other users can reach (pytest's own tmp is private to root)."""
    base = Path(f"/tmp/claude-sessions-shared-{os.getpid()}")
    base.mkdir(mode=0o755)
    base.chmod(0o755)
    yield base
    shutil.rmtree(base, ignore_errors=True)


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="switches to another user")


@needs_root
def test_a_store_another_user_may_only_read(shared_dir: Path) -> None:
    location = shared_dir / "store"
    with SessionStore(location, cleanup_after_days=None) as store:
        store.save_session("s-1", run("s-1"), tags=["old"])
    library = _library_for_other_users(location, shared_dir)
    for path in (location, *location.iterdir()):
        path.chmod(0o755 if path.is_dir() else 0o644)
    nobody = {"user": "nobody", "library": library}
    listed = cli("list", "--json", "--store", str(location), **nobody)
    assert listed.returncode == 0, listed.stderr
    assert [s["session_id"] for s in json.loads(listed.stdout)] == ["s-1"]
    shown = cli("show", "s-1", "--store", str(location), **nobody)
    assert shown.returncode == 0 and b"Hello Alice" in shown.stdout
    env = {"CLAUDE_SESSIONS_CLEANUP_DAYS": "1"}  # cleanup would be due: it must not run
    tagged = cli("tag", "s-1", "+new", "--store", str(location), env=env, **nobody)
    assert "read-only" in one_line_error(tagged, 1)
    with SessionStore(location, cleanup_after_days=None) as store:
        assert store.get_metadata("s-1").tags == ("old",)


def test_read_only_mode(tmp_path: Path, fake_clock) -> None:
    location = tmp_path / "store"
    fake_clock.advance(days=-100)
    with SessionStore(location, cleanup_after_days=None, clock=fake_clock) as store:
        store.save_session("old", run("old"))
    fake_clock.advance(days=100)
    with SessionStore(location, read_only=True, cleanup_after_days=1, clock=fake_clock) as store:
        assert store.read_only and [m.session_id for m in store.list_sessions()] == ["old"]
        with pytest.raises(StoreReadOnlyError):
            store.save_session("new", run("new"))
        with pytest.raises(StoreReadOnlyError):
            store.delete_session("old")
    tagged = cli("--read-only", "tag", "old", "+x", "--store", str(location))
    assert "read-only" in one_line_error(tagged, 1)
    listed = cli("--read-only", "list", "--json", "--store", str(location))
    assert [s["session_id"] for s in json.loads(listed.stdout)] == ["old"]
    with pytest.raises(StoreConnectionError, match="no session store"):
        SessionStore(tmp_path / "missing", read_only=True)


# -- file modes ----------------------------------------------------------------------------


# (mode it is given, whether other users may write it)
SHARED_DIRECTORIES = {
    "sticky": (0o1777, True),  # as /tmp
    "setgid": (0o2775, True),  # a team's folder
    "group-shared": (0o770, True),
    "owner-only": (0o755, False),  # as / or a home directory
}


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("kind", SHARED_DIRECTORIES)
def test_an_existing_directory_keeps_its_mode(tmp_path: Path, kind: str, caplog) -> None:
    mode, open_to_others = SHARED_DIRECTORIES[kind]
    directory = tmp_path / kind
    directory.mkdir()
    directory.chmod(mode)
    (directory / "someone-elses-file").write_text("x")
    for _ in range(2):
        with SessionStore(directory / "x.db", cleanup_after_days=None) as store:
            store.save_session("s-1", run("s-1"))
    assert _mode(directory) == mode
    assert _mode(directory / "x.db") == 0o600
    warnings = [r for r in caplog.records if "writable by other users" in r.getMessage()]
    assert len(warnings) == (1 if open_to_others else 0)  # once, however often it opens
    if open_to_others:
        assert str(directory) in warnings[0].getMessage()


def test_only_directories_the_store_makes_are_private(tmp_path: Path) -> None:
    base = tmp_path / "base"
    base.mkdir(mode=0o755)
    base.chmod(0o755)
    with SessionStore(base / "a" / "b" / "store", cleanup_after_days=None) as store:
        store.save_session("s-1", run("s-1"))
    made = [base / "a", base / "a" / "b", base / "a" / "b" / "store"]
    assert [_mode(path) for path in made] == [0o700] * 3
    assert _mode(base) == 0o755
    files = {path.name: _mode(path) for path in made[-1].iterdir()}
    assert files and set(files.values()) == {0o600}, files


def test_files_that_exist_keep_their_modes(tmp_path: Path) -> None:
    location = tmp_path / "store"
    with SessionStore(location, cleanup_after_days=None) as store:
        store.save_session("s-1", run("s-1"))
    location.chmod(0o750)
    (location / "sessions.db").chmod(0o640)  # shared with a group on purpose
    with SessionStore(location, cleanup_after_days=None) as store:
        assert [m.session_id for m in store.list_sessions()] == ["s-1"]
    assert _mode(location) == 0o750 and _mode(location / "sessions.db") == 0o640


@needs_root
@pytest.mark.parametrize("kind", SHARED_DIRECTORIES)
def test_an_existing_directory_keeps_its_mode_for_another_user(shared_dir: Path, kind: str) -> None:
    """As ``nobody``, in a root-owned directory (one nobody may write unless its mode
    says so): the command runs, the directory is as it was."""
    mode, open_to_others = SHARED_DIRECTORIES[kind]
    directory = shared_dir / kind
    directory.mkdir()
    os.chown(directory, 0, pwd.getpwnam("nobody").pw_gid)
    directory.chmod(mode)
    library = _library_for_other_users(shared_dir / "probe", shared_dir)
    listed = cli("list", "--store", str(directory / "x.db"), user="nobody", library=library)
    assert _mode(directory) == mode
    assert (directory.stat().st_uid, directory.stat().st_gid) == (0, 65534)
    if kind == "owner-only":  # nobody may not create the store there: a clean refusal
        one_line_error(listed, 1)
        return
    assert listed.returncode == 0, listed.stderr
    assert (directory / "x.db").stat().st_uid == pwd.getpwnam("nobody").pw_uid
    assert _mode(directory / "x.db") == 0o600
    assert listed.stderr.decode().count("writable by other users") == int(open_to_others)


# -- links in the transcript tree -------------------------------------------------------------


def test_links_leaving_the_tree_are_not_followed(store, tmp_path: Path) -> None:
    root = tmp_path / "claude"
    write(project_dir(root) / f"{sid(1)}.jsonl", conversation(sid(1), ["inside"]))
    outside = tmp_path / "elsewhere" / "-secret-project"
    write(outside / f"{sid(2)}.jsonl", conversation(sid(2), ["outside"]))
    (root / "projects" / "-linked").symlink_to(outside)
    (project_dir(root) / f"{sid(3)}.jsonl").symlink_to("/etc/passwd")
    inner = project_dir(root) / f"{sid(4)}.jsonl"
    inner.symlink_to(project_dir(root) / f"{sid(1)}.jsonl")  # stays inside: followed

    report = import_transcripts(store, [root])

    assert report.bad_lines == 0
    assert sorted(m.session_id for m in store.list_sessions()) == [sid(1)]
    assert len(report.skipped) == 2
    assert all("links outside" in line for line in report.skipped)
