"""A real ``claude-sessions serve`` process for the sign-in tests, users made with
``users add``, and an HTTP client that keeps what a browser would send."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlencode

from .children import default_sigint

ENV = {**os.environ, "CLAUDE_SESSIONS_CLEANUP_DAYS": "never"}
CSRF_RE = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def command(location: str, *args: str) -> str:
    """``claude-sessions ARGS --store LOCATION`` as a process; its standard output."""
    done = subprocess.run(
        [sys.executable, "-m", "claude_sessions", *args, "--store", location],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def add_user(location: str, name: str, *more: str) -> str:
    """A new user's token, as ``users add NAME --json`` prints it."""
    return str(json.loads(command(location, "users", "add", name, *more, "--json"))["token"])


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: str

    def cookies(self) -> dict[str, str]:
        """The Set-Cookie headers, each whole, by cookie name."""
        return {v.split("=", 1)[0]: v for v in self.headers.get_all("set-cookie") or []}


@dataclass
class Server:
    process: subprocess.Popen[str]
    port: int
    banner: str
    lines: list[str] = field(default_factory=list)

    def request(
        self,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        form: dict[str, str] | None = None,
        stream: bool = False,
    ) -> Answer:
        """One request; a stream's body is not read (only its status and headers)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        sent = dict(headers or {})
        body = None
        if form is not None:
            body = urlencode(form)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            text = "" if stream else response.read().decode()
            return Answer(response.status, response.headers, text)
        finally:
            connection.close()

    def log_text(self) -> str:
        return "".join(self.lines)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=30)


def start(location: str, *args: str) -> Server:
    """``serve --port 0 ARGS`` on ``location``, once it says where it listens; its later
    standard error is read into ``Server.lines`` by a thread."""
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "claude_sessions",
            "serve",
            "--store",
            location,
            "--port",
            "0",
            *args,
        ],
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
        preexec_fn=default_sigint,
    )
    assert child.stderr is not None
    banner = child.stderr.readline()
    found = re.search(r"at http://127\.0\.0\.1:(\d+)/", banner)
    if found is None:
        child.kill()
        raise AssertionError(banner + child.stderr.read())
    server = Server(child, int(found.group(1)), banner)
    stderr = child.stderr

    def drain() -> None:
        for line in stderr:
            server.lines.append(line)

    threading.Thread(target=drain, daemon=True).start()
    return server


def cookie_header(*set_cookies: str) -> str:
    """What a browser sends back for these Set-Cookie values."""
    jar: SimpleCookie = SimpleCookie()
    for value in set_cookies:
        jar.load(value)
    return "; ".join(f"{name}={morsel.value}" for name, morsel in jar.items())


def form_token(server: Server, headers: dict[str, str]) -> tuple[str, str]:
    """A CSRF nonce cookie and the form token that goes with it, as a page hands them out."""
    page = server.request("GET", "/sign-in", headers)
    nonce = page.cookies()["claude_sessions_csrf"]
    found = CSRF_RE.search(page.body)
    assert found, page.body
    return nonce, found.group(1)


def sign_in(
    server: Server, name: str, token: str, target: str = "/usage", **headers: str
) -> Answer:
    """The sign-in form posted as a browser posts it (its nonce cookie, the form's token),
    to go on to ``target``."""
    nonce, csrf = form_token(server, headers)
    sent = {**headers, "Cookie": cookie_header(nonce)}
    form = {"name": name, "token": token, "csrf_token": csrf, "next": target}
    return server.request("POST", "/sign-in", sent, form)


def signed_in_cookie(server: Server, name: str, token: str) -> str:
    """The Cookie header of a browser that signed in as ``name``."""
    answer = sign_in(server, name, token)
    assert answer.status == 303, answer.body
    return cookie_header(answer.cookies()["claude_sessions_signin"])


def wait_for_line(server: Server, needle: str, timeout: float = 30) -> str:
    """The first line of the server's standard error holding ``needle``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in list(server.lines):
            if needle in line:
                return line
        time.sleep(0.05)
    raise AssertionError(f"no line with {needle!r} in {server.log_text()!r}")
