"""Running the CLI: one sans-IO core and a blocking driver (the asyncio one: :mod:`.process_async`).

We run the CLI ourselves instead of through ``claude_agent_sdk.query`` because
the SDK's parser drops message types it does not know, and a ``Message`` must
be a faithful record of every object the CLI printed.

:class:`Invocation` says what to start, :class:`Transcript` turns stdout
lines into messages and decides, from the exit status, the stderr tail and
what was seen, which error (if any) the run ends with. The drivers only move
bytes; both always stop the CLI when the caller stops iterating. The CLI
runs in a process group of its own and dies with its parent (see
:mod:`.child_lifetime`): stopping it stops whatever it started too.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import signal
import subprocess
import threading
from collections.abc import Generator
from dataclasses import dataclass
from typing import IO

from claude_sessions.model.child_lifetime import signal_group, spawn_options
from claude_sessions.model.exceptions import (
    APIError,
    CLINotFoundError,
    CLIProcessError,
    CLITimeoutError,
    ConversationNotFoundError,
    ResultError,
)
from claude_sessions.model.message import Message

STDERR_TAIL_LINES = 40
# Tool results can put megabytes on one stdout line; asyncio's default is 64 KiB.
MAX_LINE_BYTES = 256 * 1024 * 1024
# How long a CLI gets to exit after SIGTERM before its process group is killed.
TERMINATE_GRACE_SECONDS = 3.0


@dataclass(frozen=True)
class Invocation:
    """Everything needed to start one CLI run."""

    argv: list[str]
    env: dict[str, str]
    cwd: str | None
    stdin: bytes
    timeout: float | None = None
    raise_on_error: bool = False
    resume_id: str | None = None


class Transcript:
    """What one run printed, and how it ended."""

    def __init__(self, invocation: Invocation) -> None:
        self.invocation = invocation
        self.messages: list[Message] = []
        self.unparsed: list[str] = []

    def feed(self, line: bytes) -> Message | None:
        text = line.decode("utf-8", "replace").strip()
        if not text:
            return None
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            # The CLI sometimes prints warnings on stdout; keep them for errors.
            self.unparsed.append(text)
            return None
        message = Message(data)
        self.messages.append(message)
        return message

    def finish(self, exit_code: int | None, stderr: str, *, timed_out: bool = False) -> None:
        """Raise the error this run ended with, if any."""
        invocation = self.invocation
        tail = _tail(stderr + "\n" + "\n".join(self.unparsed))
        if timed_out:
            raise CLITimeoutError(
                f"the CLI did not finish within {invocation.timeout:g} s",
                exit_code=exit_code,
                stderr=tail,
            )
        if invocation.resume_id and exit_code and "No conversation found" in tail:
            raise ConversationNotFoundError(invocation.resume_id, exit_code=exit_code, stderr=tail)
        result = next((m for m in reversed(self.messages) if m.is_result), None)
        if result is not None and result.is_error:
            if invocation.raise_on_error:
                raise _result_error(result)
            return
        if exit_code:
            first_line = tail.strip().splitlines()[-1] if tail.strip() else "no output"
            raise CLIProcessError(
                f"the CLI exited with status {exit_code}: {first_line}",
                exit_code=exit_code,
                stderr=tail,
            )


def _result_error(result: Message) -> ResultError:
    detail = result.text or ", ".join(map(str, result.get("errors") or [])) or result.subtype
    status = result.api_error_status
    if status is not None:
        return APIError(f"API error {status}: {detail}", status=status, result=result)
    return ResultError(f"the run ended with an error ({result.subtype}): {detail}", result=result)


def _tail(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return "\n".join(lines[-STDERR_TAIL_LINES:])


def child_env(invocation: Invocation) -> dict[str, str]:
    return {**os.environ, **invocation.env}


def run_sync(invocation: Invocation) -> Generator[Message, None, None]:
    """Run the CLI, yielding messages as it prints them."""
    transcript = Transcript(invocation)
    try:
        process = subprocess.Popen(
            invocation.argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=invocation.cwd,
            env=child_env(invocation),
            **spawn_options(),
        )
    except (FileNotFoundError, PermissionError) as exc:
        raise CLINotFoundError(f"cannot start the CLI {invocation.argv[0]}: {exc}") from exc
    assert process.stdin and process.stdout and process.stderr
    stderr_lines: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL_LINES)
    drain = threading.Thread(target=_drain, args=(process.stderr, stderr_lines), daemon=True)
    drain.start()
    timed_out = threading.Event()
    timer = None
    if invocation.timeout is not None:
        timer = threading.Timer(invocation.timeout, _expire, args=(process, timed_out))
        timer.daemon = True
        timer.start()
    try:
        _write_stdin(process.stdin, invocation.stdin)
        for line in process.stdout:
            message = transcript.feed(line)
            if message is not None:
                yield message
        exit_code = process.wait()
        drain.join(timeout=TERMINATE_GRACE_SECONDS)
        transcript.finish(exit_code, "\n".join(stderr_lines), timed_out=timed_out.is_set())
    finally:
        if timer is not None:
            timer.cancel()
        _stop(process)


def _write_stdin(stdin: IO[bytes], data: bytes) -> None:
    try:
        stdin.write(data)
        stdin.close()
    except BrokenPipeError:
        pass  # the CLI exited early; its status and stderr tell why


def _drain(stream: IO[bytes], lines: collections.deque[str]) -> None:
    for raw in stream:
        lines.append(raw.decode("utf-8", "replace").rstrip())


def _expire(process: subprocess.Popen[bytes], flag: threading.Event) -> None:
    flag.set()
    if process.poll() is None:
        signal_group(process.pid, signal.SIGKILL)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the CLI's process group if the CLI still runs, and always reap it (no zombies).

    SIGTERM lets the CLI and its tools clean up; SIGKILL then ends whatever in
    the group outlived the grace period or ignored SIGTERM, also when the
    wait is interrupted.
    """
    if process.poll() is None:
        signal_group(process.pid, signal.SIGTERM)
        try:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=TERMINATE_GRACE_SECONDS)
        finally:
            signal_group(process.pid, signal.SIGKILL)
    process.wait()
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            stream.close()
