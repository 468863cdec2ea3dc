"""Live updates over Server-Sent Events, a clean end when the browser leaves or the server
stops, and the ``serve`` command."""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from claude_sessions import SessionStore
from claude_sessions.cli import cli
from claude_sessions.store.users import add_user
from claude_sessions.web import create_app

from .children import default_sigint
from .web_samples import Transcript, populate, sid
from .web_server import EventStream, running, serve_process

LIVE_WITHIN = 3.0  # seconds: the stream polls once a second


def test_the_list_stream_says_when_the_store_changes(store: SessionStore) -> None:
    populate(store)
    with running(create_app(store)) as server:
        stream = EventStream(server.port, f"/events?since={store.version()}")
        assert stream.response.getheader("content-type", "").startswith("text/event-stream")
        assert stream.response.getheader("content-security-policy")
        with pytest.raises(TimeoutError):
            stream.next_event(1.5)  # nothing changed: nothing said
        started = time.monotonic()
        store.add_tags(sid(1), ["live"])
        event = stream.next_event(LIVE_WITHIN)
        assert event is not None and event["event"] == "changed"
        assert event["id"] == store.version()
        assert time.monotonic() - started < LIVE_WITHIN
        stream.close()


def test_the_session_stream_says_when_the_session_grows(store: SessionStore) -> None:
    populate(store)
    with running(create_app(store)) as server:
        page = urllib.request.urlopen(f"{server.url}/s/{sid(2)}").read().decode()
        version = re.search(r'data-version="([0-9a-f]+)"', page)
        assert version is not None
        stream = EventStream(server.port, f"/s/{sid(2)}/events?since={version.group(1)}")
        store.add_tags(sid(1), ["elsewhere"])  # another session: this page has nothing new
        with pytest.raises(TimeoutError):
            stream.next_event(1.5)
        more = Transcript(sid(2), cwd="/home/alice/work/site")
        more._n = 500
        more.user("One more thing: make it sticky.")
        store.append_messages(sid(2), more.entries)
        event = stream.next_event(LIVE_WITHIN)
        assert event is not None and event["event"] == "changed"
        stream.close()


def test_a_reconnecting_browser_misses_nothing(tmp_path: Path) -> None:
    with SessionStore(tmp_path / "s", cleanup_after_days=None) as store:
        populate(store)
        before = store.version()
        time.sleep(0.01)  # the version moves with the clock's milliseconds
        store.add_tags(sid(1), ["while-away"])
        with running(create_app(store)) as server:
            stream = EventStream(server.port, "/events", headers={"Last-Event-ID": before})
            event = stream.next_event(LIVE_WITHIN)
            assert event is not None and event["id"] == store.version()
            stream.close()


def test_a_stream_ends_when_the_browser_leaves(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "s", cleanup_after_days=None)
    with store, running(create_app(store)) as server:
        state = server.server.server_state
        stream = EventStream(server.port, "/events")
        deadline = time.monotonic() + 3
        while not state.connections and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(state.connections) == 1
        stream.close()
        deadline = time.monotonic() + 3
        # The connection goes first, its task a moment later: wait for both.
        while (state.connections or state.tasks) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not state.connections
        assert not state.tasks


def test_the_server_stops_promptly_with_streams_open(store: SessionStore) -> None:
    populate(store)
    with running(create_app(store)) as server:
        streams = [
            EventStream(server.port, "/events"),
            EventStream(server.port, f"/s/{sid(1)}/events"),
        ]
        took = server.stop()
        assert not server.thread.is_alive()
        assert took < 3.0  # well before uvicorn's own give-up (5 s): the streams ended
        for stream in streams:
            assert stream.next_event(2) is None  # the response was finished cleanly
            stream.close()


# -- the command ----------------------------------------------------------------------------


def test_serve_runs_until_interrupted(tmp_path: Path) -> None:
    location = tmp_path / "store"
    with SessionStore(location, cleanup_after_days=None) as store:
        populate(store)
    with serve_process(location) as (child, url):
        page = urllib.request.urlopen(url).read().decode()
        assert "Login rate limit" in page
        child.send_signal(signal.SIGINT)
        assert child.wait(timeout=10) == 130


@pytest.mark.parametrize(
    ("arguments", "token_in_url", "read_only"),
    [
        ([], False, False),
        (["--host", "0.0.0.0", "--auth"], False, False),
        (["--host", "192.168.1.5", "--auth"], False, False),
        (["--host", "127.0.0.1", "--token", "mine-and-only-mine"], True, False),
        (["--read-only"], False, True),
    ],
)
def test_serve_options(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    arguments: list[str],
    token_in_url: bool,
    read_only: bool,
) -> None:
    location = tmp_path / "store"
    with SessionStore(location, cleanup_after_days=None) as store:
        add_user(store, "alice")  # someone to sign in (an SQLite store asks only if told)
    made: dict[str, object] = {}

    class FakeServer:
        def run(self) -> None:
            on_started = made["on_started"]
            assert callable(on_started)
            on_started(4242)

    def fake_make_server(
        app: object, host: str, port: int, *, on_started: object, forwarded_allow_ips: object
    ) -> FakeServer:
        made.update(app=app, host=host, port=port, on_started=on_started)
        return FakeServer()

    monkeypatch.setattr("claude_sessions.web.server.make_server", fake_make_server)
    result = CliRunner().invoke(cli, ["serve", "--store", str(location), *arguments])
    assert result.exit_code == 0, result.output
    url = re.search(r"at (http://\S+)", result.output)
    assert url is not None
    assert ("?token=" in url.group(1)) is token_in_url
    if "--token" in arguments:
        assert url.group(1).endswith("?token=mine-and-only-mine")
    assert ("(read-only)" in result.output) is read_only
    exposed = {
        "0.0.0.0": "0.0.0.0:4242 (every address of this machine)",
        "192.168.1.5": "192.168.1.5:4242",
    }
    where = next((exposed[a] for a in arguments if a in exposed), None)
    if where is None:
        assert "Warning" not in result.output
    else:
        assert result.output.startswith(
            f"Warning: listening on {where}, reachable from other machines; every request "
            "needs a signed-in user.\nServing "
        )
    assert made["port"] == 8765
    app = made["app"]
    routes = {getattr(route, "path", "") for route in getattr(app, "routes", [])}
    assert ("/s/{session_id}/tags" in routes) is not read_only


@pytest.mark.parametrize(
    "arguments",
    [
        ["--token", ""],
        ["--token", "x"],
        ["--host", "0.0.0.0", "--token", ""],
        ["--host", "0.0.0.0", "--token", "fifteen-chars!!"],
    ],
)
def test_serve_refuses_an_empty_or_short_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, arguments: list[str]
) -> None:
    def no_server(*args: object, **kwargs: object) -> None:
        raise AssertionError("no server may start")

    monkeypatch.setattr("claude_sessions.web.server.make_server", no_server)
    location = tmp_path / "store"
    result = CliRunner().invoke(cli, ["serve", "--store", str(location), *arguments])
    assert result.exit_code == 2
    length = len(arguments[-1])
    assert result.output.startswith(
        "Error: Invalid value for '--token': an access token needs at least 16 characters, "
        f"not {length} (see "
    )
    assert result.output.count("\n") == 1
    assert not location.exists()  # refused before the store was opened


def test_serve_with_a_token_lets_in_only_who_has_it(tmp_path: Path) -> None:
    location = tmp_path / "store"
    with SessionStore(location, cleanup_after_days=None) as store:
        populate(store)
    command = [sys.executable, "-m", "claude_sessions", "serve", "--store", str(location)]
    env = {**os.environ, "CLAUDE_SESSIONS_CLEANUP_DAYS": "never"}
    empty = subprocess.run(
        [*command, "--port", "0", "--token", ""],  # what --token "$UNSET" passes
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert empty.returncode == 2 and empty.stdout == ""
    assert empty.stderr.count("\n") == 1 and "at least 16 characters, not 0" in empty.stderr

    token = "s3cret-token-for-tests"
    child = subprocess.Popen(
        [*command, "--port", "0", "--token", token],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=default_sigint,
    )
    try:
        assert child.stderr is not None
        line = child.stderr.readline()
        found = re.match(r"Serving .+ at http://127\.0\.0\.1:(\d+)/\?token=(\S+)$", line.strip())
        assert found and found.group(2) == token, line
        port = int(found.group(1))

        def status(path: str, cookie: str = "") -> int:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            connection.request("GET", path, headers={"Cookie": cookie} if cookie else {})
            code = connection.getresponse().status
            connection.close()
            return code

        assert status("/") == 403
        assert status("/?token=") == 403
        assert status(f"/?token={token}") == 303
        assert status("/", cookie=f"claude_sessions_token={token}") == 200
    finally:
        child.send_signal(signal.SIGINT)
        child.wait(timeout=30)


def test_the_command_line_does_not_load_the_web_app() -> None:
    code = (
        "import sys, claude_sessions, claude_sessions.cli\n"
        "print(sorted(m for m in sys.modules if m.startswith("
        "('claude_sessions.web', 'markdown_it', 'pygments'))))"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[]"
