"""Every command starts fast: importing the library or the command line loads nothing heavy."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

HEAVY = ("claude_agent_sdk", "mcp", "psycopg", "starlette", "uvicorn", "jinja2", "anyio")


def loaded_after(code: str, stdin: str = "", env: dict[str, str] | None = None) -> list[str]:
    probe = f"{code}\nimport sys, json\nprint('@@' + json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, input=stdin, env=env
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.rsplit("@@", 1)[1])


@pytest.mark.parametrize(
    "code",
    [
        "import claude_sessions",
        "import claude_sessions.cli",
        "from claude_sessions.cli import main; main(['--version'])",
        "from claude_sessions import SessionStore, query, Session, Message, Options",
    ],
)
def test_importing_loads_nothing_heavy(code):
    code = f"import contextlib\nwith contextlib.suppress(SystemExit): {code}"
    modules = loaded_after(code)
    heavy = [name for name in modules if name.split(".")[0] in HEAVY]
    assert heavy == []


def test_a_read_command_loads_nothing_heavy(tmp_path):
    from claude_sessions import SessionStore

    SessionStore(tmp_path / "s", cleanup_after_days=None).close()
    code = (
        "import contextlib\nfrom claude_sessions.cli import main\n"
        f"with contextlib.suppress(SystemExit): main(['list', '--store', {str(tmp_path / 's')!r}])"
    )
    modules = loaded_after(code)
    assert [name for name in modules if name.split(".")[0] in HEAVY] == []


def test_the_capture_hook_loads_only_what_it_runs(tmp_path):
    """Claude Code waits for its hooks: ``hooks capture`` must not pay for the query
    layer, the terminal renderer or anything heavy."""
    code = (
        "import contextlib\nfrom claude_sessions.cli import main\n"
        "with contextlib.suppress(SystemExit): "
        f"main(['hooks', 'capture', '--store', {str(tmp_path / 's')!r}])"
    )
    modules = loaded_after(code)
    assert [name for name in modules if name.split(".")[0] in HEAVY] == []
    assert "rich" not in modules
    assert (
        "claude_sessions.runs.run" not in modules and "claude_sessions.runs.process" not in modules
    )
    assert "tempfile" not in modules and "shutil" not in modules  # they write settings only
    assert "error" in (tmp_path / "s" / "capture.log").read_text()  # it ran, on empty input


def test_a_capture_that_stores_a_turn_loads_no_usage_sums_socket_or_tempfile(tmp_path):
    """A real capture (a transcript's new turn stored) leaves out what only reports, the
    team-server set-up or a network connection use: the usage sums' SQL, ``tempfile``
    (with ``shutil``) and ``socket`` (the host name comes from ``os.uname``)."""
    session_id = "3f2a6c1e-9b7d-4e8a-a1c2-5d6e7f8091a2"
    transcript = tmp_path / "config" / "projects" / "-repo" / f"{session_id}.jsonl"
    transcript.parent.mkdir(parents=True)
    lines = [
        {
            "type": kind,
            "uuid": f"00000000-0000-4000-8000-00000000000{n}",
            "parentUuid": f"00000000-0000-4000-8000-00000000000{n - 1}" if n else None,
            "sessionId": session_id,
            "timestamp": f"2026-11-25T10:00:0{n}.000Z",
            "cwd": "/repo",
            "message": {"role": kind, "content": f"line {n}"},
        }
        for n, kind in enumerate(["user", "assistant", "user", "assistant"])
    ]
    transcript.write_text("".join(json.dumps(line) + "\n" for line in lines))
    payload = {
        "session_id": session_id,
        "transcript_path": str(transcript),
        "cwd": "/repo",
        "hook_event_name": "Stop",
    }
    store = tmp_path / "s"
    from claude_sessions import SessionStore

    SessionStore(store, cleanup_after_days=None).close()  # made (and its sums) before
    env = {**os.environ, "CLAUDE_CONFIG_DIR": str(tmp_path / "config")}
    env["CLAUDE_SESSIONS_CLEANUP_DAYS"] = "never"
    code = (
        "import contextlib\nfrom claude_sessions.cli import main\n"
        "with contextlib.suppress(SystemExit): "
        f"main(['hooks', 'capture', '--store', {str(store)!r}])"
    )
    modules = loaded_after(code, json.dumps(payload), env)
    assert "+4 entries" in (store / "capture.log").read_text()  # it stored the turn
    assert "claude_sessions.store.rollups" not in modules
    assert "socket" not in modules
    assert "tempfile" not in modules and "shutil" not in modules


def test_lazy_names_are_the_functions_whatever_was_imported_first():
    code = (
        "import claude_sessions.cli.run, claude_sessions.cli.tour, claude_sessions.store\n"
        "import claude_sessions as cs\n"
        "names = ['query', 'resume', 'fork', 'Session', 'SessionStore', 'Options', 'Message']\n"
        "assert all(callable(getattr(cs, n)) for n in names), [getattr(cs, n) for n in names]\n"
        "assert cs.query.__module__ == 'claude_sessions.runs.run'\n"
        "assert sorted(cs.__all__) == sorted(n for n in cs.__all__ if hasattr(cs, n))"
    )
    loaded_after(code)


def test_every_public_exception_has_one_name():
    """The package exports each error class once, under its own name (no aliases)."""
    import claude_sessions as cs

    errors = {
        name: getattr(cs, name)
        for name in cs.__all__
        if isinstance(getattr(cs, name), type) and issubclass(getattr(cs, name), Exception)
    }
    assert errors, "the package exports its errors"
    assert {name: error.__name__ for name, error in errors.items()} == {n: n for n in errors}
    assert len(set(errors.values())) == len(errors)


def test_list_and_show_load_only_what_they_use(tmp_path):
    """``list`` reads no budget and makes no statistics; ``show`` derives no session facts
    (the store derived them when it saved the session); none looks up emoji codes."""
    from claude_sessions import SessionStore

    from .store_samples import run

    location = str(tmp_path / "s")
    with SessionStore(location, cleanup_after_days=None) as store:
        store.save_session("s-1", run("s-1"))

    def loaded_by(*args: str) -> list[str]:
        code = (
            "import contextlib\nfrom claude_sessions.cli import main\n"
            f"with contextlib.suppress(SystemExit): main([*{args!r}, '--store', {location!r}])"
        )
        return loaded_after(code)

    listed = loaded_by("list")
    assert "claude_sessions.store.core" in listed  # it ran
    unused = ("claude_sessions.store.budgets", "claude_sessions.views.stats", "rich._emoji_codes")
    assert [name for name in unused if name in listed] == []
    shown = loaded_by("show", "s-1")
    assert "claude_sessions.views.conversation" in shown  # it ran
    unused = (
        "claude_sessions.model.derive",
        "claude_sessions.model.fold_state",
        "rich._emoji_codes",
        "difflib",  # the sample session edits no file
    )
    assert [name for name in unused if name in shown] == []
    counted = loaded_by("stats")
    assert "claude_sessions.views.stats" in counted  # it ran
    assert "rich._emoji_codes" not in counted
