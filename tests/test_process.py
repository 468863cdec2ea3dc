"""The runner's error handling and process hygiene, with a scripted stand-in CLI.

These are unit tests: the stand-in only prints what a test tells it to. Every
flow a user sees is also tested against the real CLI in test_e2e_query.py.
"""

import asyncio
import json
import os
import stat
import sys
import textwrap
import time
from pathlib import Path

import pytest

from claude_sessions import (
    APIError,
    CLINotFoundError,
    CLIProcessError,
    CLITimeoutError,
    Options,
    ResultError,
    aquery,
    query,
    resume,
)
from claude_sessions.runs.run import CONTINUE_PROMPT, build_invocation


def stand_in(tmp_path, body):
    """An executable that records its argv and stdin, then runs ``body``."""
    path = tmp_path / "fake-claude"
    path.write_text(
        f"#!{sys.executable}\n"
        + textwrap.dedent(
            """
            import json, os, sys, time
            record = os.environ.get("RECORD")
            stdin = sys.stdin.read()
            if record:
                open(record, "w").write(json.dumps({"argv": sys.argv[1:], "stdin": stdin}))
            def emit(obj):
                print(json.dumps(obj), flush=True)
            """
        )
        + textwrap.dedent(body)
    )
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


OK_RUN = """
emit({"type": "system", "subtype": "init", "session_id": "s1"})
print("a warning that is not JSON", flush=True)
emit({"type": "assistant", "message": {"content": [{"type": "text", "text": "hi"}]}})
emit({"type": "future_thing", "x": 1})
emit({"type": "result", "subtype": "success", "is_error": False, "session_id": "s1"})
"""


def test_messages_stream_and_unknown_types_survive(tmp_path):
    cli = stand_in(tmp_path, OK_RUN)
    messages = list(query("hello", Options(cli_path=cli)))
    assert [m.type for m in messages] == ["system", "assistant", "future_thing", "result"]


def test_prompt_goes_on_stdin_as_stream_json(tmp_path, monkeypatch):
    cli = stand_in(tmp_path, OK_RUN)
    record = tmp_path / "record.json"
    monkeypatch.setenv("RECORD", str(record))
    list(resume("abc", "--looks-like-a-flag", Options(cli_path=cli, model="opus", max_turns=5)))
    seen = json.loads(record.read_text())
    assert json.loads(seen["stdin"]) == {
        "type": "user",
        "message": {"role": "user", "content": "--looks-like-a-flag"},
    }
    argv = seen["argv"]
    assert "--resume=abc" in argv
    assert argv[argv.index("--input-format") + 1] == "stream-json"
    assert argv[argv.index("--model") + 1] == "opus"
    assert argv[argv.index("--max-turns") + 1] == "5"


def test_invocation_flags():
    invocation = build_invocation(
        None,
        Options(
            allowed_tools=["Read", "Edit"],
            permission_mode="accept_edits",
            fork_session=True,
            session_id="new-id",
            extra_args=["--debug"],
            env={"A": "1"},
        ),
        resume="old",
    )
    argv = invocation.argv
    assert argv[argv.index("--allowedTools") + 1] == "Read,Edit"
    assert argv[argv.index("--permission-mode") + 1] == "acceptEdits"
    assert "--fork-session" in argv and "--session-id" in argv and argv[-1] == "--debug"
    assert json.loads(invocation.stdin)["message"]["content"] == CONTINUE_PROMPT
    assert invocation.env == {"A": "1"}


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda: build_invocation("", None), ValueError),
        (lambda: build_invocation(None, None), ValueError),
        (lambda: build_invocation("x", None, resume=""), ValueError),
        (lambda: build_invocation("x", None, resume="a\nb"), ValueError),
        (lambda: build_invocation("x", Options(fork_session=True)), ValueError),
        (lambda: Options(max_turns=0), ValueError),
        (lambda: Options(permission_mode="yolo"), ValueError),
        (lambda: Options(allowed_tools="Read"), TypeError),
    ],
)
def test_bad_input_is_rejected_before_anything_runs(call, error):
    with pytest.raises(error):
        call()


def test_cli_not_found(tmp_path):
    with pytest.raises(CLINotFoundError):
        list(query("x", Options(cli_path=tmp_path / "missing")))
    with pytest.raises(CLINotFoundError):
        list(query("x", Options(cli_path="no-such-claude-binary-on-path")))


def test_non_zero_exit_carries_stderr_tail(tmp_path):
    cli = stand_in(tmp_path, 'sys.stderr.write("line one\\nfatal: config broken\\n"); sys.exit(3)')
    with pytest.raises(CLIProcessError) as caught:
        list(query("x", Options(cli_path=cli)))
    assert caught.value.exit_code == 3
    assert "fatal: config broken" in caught.value.stderr
    assert "fatal: config broken" in str(caught.value)


ERROR_RESULT = """
emit({"type": "system", "subtype": "init", "session_id": "s1"})
emit({"type": "result", "subtype": "success", "is_error": True, "api_error_status": 529,
      "result": "Overloaded", "session_id": "s1"})
sys.exit(1)
"""


def test_error_result_is_returned_not_raised(tmp_path):
    cli = stand_in(tmp_path, ERROR_RESULT)
    messages = list(query("x", Options(cli_path=cli)))
    assert messages[-1].is_error and messages[-1].api_error_status == 529


def test_raise_on_error_raises_after_yielding_the_result(tmp_path):
    cli = stand_in(tmp_path, ERROR_RESULT)
    seen = []
    with pytest.raises(APIError) as caught:
        seen.extend(query("x", Options(cli_path=cli, raise_on_error=True)))
    assert caught.value.status == 529
    assert seen[-1].is_result
    assert isinstance(caught.value, ResultError)


def test_timeout_kills_the_cli(tmp_path):
    cli = stand_in(tmp_path, 'emit({"type": "system", "subtype": "init"}); time.sleep(60)')
    started = time.monotonic()
    with pytest.raises(CLITimeoutError):
        list(query("x", Options(cli_path=cli, timeout=1)))
    assert time.monotonic() - started < 10


def test_breaking_out_stops_and_reaps_the_cli(tmp_path):
    cli = stand_in(
        tmp_path,
        """
        emit({"type": "system", "subtype": "init", "pid": os.getpid()})
        time.sleep(60)
        """,
    )
    iterator = query("x", Options(cli_path=cli))
    first = next(iterator)
    pid = first["pid"]
    assert os.path.exists(f"/proc/{pid}")
    iterator.close()
    with pytest.raises(FileNotFoundError):
        open(f"/proc/{pid}/stat").close()


# The stand-in starts a helper that ignores SIGTERM (like a tool or MCP server
# slow to stop), then waits: stopping the run must end the helper too.
STARTS_A_HELPER = """
import subprocess
helper = subprocess.Popen(
    [sys.executable, "-c",
     "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print(1, flush=True); "
     "time.sleep(60)"],
    stdout=subprocess.PIPE,
)
helper.stdout.readline()
emit({"type": "system", "subtype": "init", "helper": helper.pid})
time.sleep(60)
"""


def is_running(pid):
    """Whether process ``pid`` exists and is not a zombie (ended, waiting to be reaped)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def seconds_until_gone(pid, limit):
    """How long process ``pid`` kept running, polled for at most ``limit`` seconds."""
    started = time.monotonic()
    while is_running(pid) and time.monotonic() - started < limit:
        time.sleep(0.02)
    return time.monotonic() - started


def first_then_stop_sync(cli, timeout):
    iterator = query("x", Options(cli_path=cli, timeout=timeout))
    helper = next(iterator)["helper"]
    if timeout is None:
        iterator.close()
    else:
        with pytest.raises(CLITimeoutError):
            list(iterator)
    return helper


def first_then_stop_async(cli, timeout):
    async def run():
        iterator = aquery("x", Options(cli_path=cli, timeout=timeout))
        helper = (await iterator.__anext__())["helper"]
        if timeout is None:
            await iterator.aclose()
        else:
            with pytest.raises(CLITimeoutError):
                _ = [m async for m in iterator]
        return helper

    return asyncio.run(run())


@pytest.mark.parametrize("driver", [first_then_stop_sync, first_then_stop_async])
@pytest.mark.parametrize("timeout", [None, 1.0], ids=["closed", "timed-out"])
def test_stopping_the_cli_stops_what_it_started(tmp_path, driver, timeout):
    cli = stand_in(tmp_path, STARTS_A_HELPER)
    started = time.monotonic()
    helper = driver(cli, timeout)
    # The helper holds the CLI's stderr open: while it lives, the run cannot wind up.
    assert time.monotonic() - started < 10
    assert seconds_until_gone(helper, limit=5) < 2
