"""The asyncio driver of a CLI run: the twin of :func:`.process.run_sync`.

Apart so that only asyncio callers pay for importing asyncio.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import signal
from collections.abc import AsyncGenerator

from claude_sessions.model.child_lifetime import signal_group, spawn_options
from claude_sessions.model.exceptions import CLINotFoundError
from claude_sessions.model.message import Message
from claude_sessions.runs.process import (
    MAX_LINE_BYTES,
    STDERR_TAIL_LINES,
    TERMINATE_GRACE_SECONDS,
    Invocation,
    Transcript,
    child_env,
)


async def run_async(invocation: Invocation) -> AsyncGenerator[Message, None]:
    """The asyncio twin of :func:`run_sync`."""
    transcript = Transcript(invocation)
    try:
        process = await asyncio.create_subprocess_exec(
            *invocation.argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=invocation.cwd,
            env=child_env(invocation),
            limit=MAX_LINE_BYTES,
            **spawn_options(),
        )
    except (FileNotFoundError, PermissionError) as exc:
        raise CLINotFoundError(f"cannot start the CLI {invocation.argv[0]}: {exc}") from exc
    assert process.stdin and process.stdout and process.stderr
    stderr_lines: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL_LINES)
    drain = asyncio.ensure_future(_drain_async(process.stderr, stderr_lines))
    loop = asyncio.get_running_loop()
    deadline = None if invocation.timeout is None else loop.time() + invocation.timeout
    timed_out = False
    try:
        try:
            process.stdin.write(invocation.stdin)
            await process.stdin.drain()
            process.stdin.close()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the CLI exited early; its status and stderr tell why
        while True:
            remaining = None if deadline is None else max(deadline - loop.time(), 0)
            try:
                line = await asyncio.wait_for(process.stdout.readline(), remaining)
            except asyncio.TimeoutError:
                timed_out = True
                signal_group(process.pid, signal.SIGKILL)
                break
            if not line:
                break
            message = transcript.feed(line)
            if message is not None:
                yield message
        exit_code = await process.wait()
        await asyncio.wait_for(drain, TERMINATE_GRACE_SECONDS)
        transcript.finish(exit_code, "\n".join(stderr_lines), timed_out=timed_out)
    finally:
        try:
            await _stop_async(process)
            # With the group gone, stderr ends: seeing that lets asyncio close the
            # pipes now, not complain later that the loop closed under them.
            await asyncio.wait({drain}, timeout=TERMINATE_GRACE_SECONDS)
        finally:
            drain.cancel()


async def _drain_async(stream: asyncio.StreamReader, lines: collections.deque[str]) -> None:
    while raw := await stream.readline():
        lines.append(raw.decode("utf-8", "replace").rstrip())


async def _stop_async(process: asyncio.subprocess.Process) -> None:
    """The asyncio twin of :func:`_stop`."""
    if process.returncode is None:
        signal_group(process.pid, signal.SIGTERM)
        try:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(process.wait(), TERMINATE_GRACE_SECONDS)
        finally:  # cancelled too (e.g. by asyncio.run winding down)
            signal_group(process.pid, signal.SIGKILL)
    await process.wait()
