"""Sessions for the web app's tests and screenshots, saved through the public store API.

Transcripts are shaped like the ones Claude Code writes (user and assistant
entries with uuids, timestamps, message ids and usage; tool calls and their
results; thinking; an image; a compaction), so the pages see what they will
see in real stores. ``XSS`` payloads go into every stored field a page shows.
"""

from __future__ import annotations

import base64
import struct
import uuid as uuidlib
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from claude_sessions import SessionStore

SONNET = "claude-sonnet-4-5-20250929"
OPUS = "claude-opus-4-5-20251101"
HAIKU = "claude-haiku-4-5-20251001"
XSS = (
    "<script>alert('xss')</script> <img src=x onerror=alert(1)> "
    "<svg onload=alert(2)></svg> [click me](javascript:alert(3))"
)
XSS_TEXT_VISIBLE = "<script>alert('xss')</script>"


def sid(n: int) -> str:
    return f"{n:08x}-5e55-4000-8000-{n:012x}"


def tiny_png(width: int = 24, height: int = 16) -> str:
    """A small valid PNG (a gradient), base64."""
    rows = b"".join(
        b"\x00" + bytes(v for x in range(width) for v in (x * 10 % 256, y * 15 % 256, 180))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
    return base64.b64encode(png).decode()


@dataclass
class Transcript:
    """Builds CLI transcript entries for one session."""

    session_id: str
    cwd: str = "/home/alice/work/shop"
    model: str = SONNET
    start: datetime = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)
    branch: str = "main"
    entries: list[dict[str, Any]] = field(default_factory=list)
    _n: int = 0

    def _uuid(self) -> str:
        self._n += 1
        return str(uuidlib.uuid5(uuidlib.NAMESPACE_URL, f"{self.session_id}/{self._n}"))

    def _entry(self, kind: str, message: dict[str, Any], **extra: Any) -> dict[str, Any]:
        moment = self.start + timedelta(seconds=20 * self._n)
        entry = {
            "parentUuid": self.entries[-1]["uuid"] if self.entries else None,
            "isSidechain": False,
            "userType": "external",
            "cwd": self.cwd,
            "sessionId": self.session_id,
            "version": "2.1.39",
            "gitBranch": self.branch,
            "type": kind,
            "message": message,
            "uuid": self._uuid(),
            "timestamp": moment.isoformat().replace("+00:00", "Z"),
            **extra,
        }
        self.entries.append(entry)
        return entry

    def user(self, content: str | list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
        return self._entry("user", {"role": "user", "content": content}, **extra)

    def assistant(
        self, blocks: list[dict[str, Any]], *, tokens: tuple[int, int] = (1200, 300)
    ) -> dict[str, Any]:
        message = {
            "model": self.model,
            "id": f"msg_{self._n:04d}_{self.session_id[:8]}",
            "type": "message",
            "role": "assistant",
            "content": blocks,
            "stop_reason": "end_turn",
            "usage": {
                "input_tokens": tokens[0] // 10,
                "cache_read_input_tokens": tokens[0] - tokens[0] // 10,
                "output_tokens": tokens[1],
            },
        }
        return self._entry("assistant", message)

    def say(self, text: str, **options: Any) -> dict[str, Any]:
        return self.assistant([{"type": "text", "text": text}], **options)

    def tool(
        self,
        name: str,
        arguments: dict[str, Any],
        output: str | list[dict[str, Any]],
        *,
        is_error: bool = False,
        result_extra: dict[str, Any] | None = None,
    ) -> str:
        tool_id = f"toolu_{self._n:04d}{self.session_id[:6]}"
        self.assistant([{"type": "tool_use", "id": tool_id, "name": name, "input": arguments}])
        block = {"type": "tool_result", "tool_use_id": tool_id, "content": output}
        if is_error:
            block["is_error"] = True
        self.user([block], **(result_extra or {}))
        return tool_id

    def compact(self, summary: str) -> None:
        moment = self.start + timedelta(seconds=20 * self._n)
        self.entries.append(
            {
                "parentUuid": None,
                "isSidechain": False,
                "cwd": self.cwd,
                "sessionId": self.session_id,
                "type": "system",
                "subtype": "compact_boundary",
                "content": "Conversation compacted",
                "isMeta": False,
                "timestamp": moment.isoformat().replace("+00:00", "Z"),
                "uuid": self._uuid(),
                "compactMetadata": {"trigger": "auto", "preTokens": 167731},
            }
        )
        self.user(summary, isCompactSummary=True)

    @property
    def last_uuid(self) -> str:
        return str(self.entries[-1]["uuid"])


LONG_OUTPUT = "\n".join(f"tests/test_cart.py::test_case_{i:03d} PASSED" for i in range(60))


def auth_session(session_id: str, start: datetime) -> Transcript:
    t = Transcript(session_id, cwd="/home/alice/work/shop", model=SONNET, start=start)
    t.user("Add rate limiting to the login endpoint. Five attempts per minute per IP.")
    t.assistant(
        [
            {
                "type": "thinking",
                "thinking": "The login view lives in `shop/auth/views.py`; a sliding window "
                "in Redis keeps it stateless across workers.",
            },
            {"type": "text", "text": "I'll look at the login view first."},
        ]
    )
    t.tool(
        "Read",
        {"file_path": "/home/alice/work/shop/shop/auth/views.py"},
        "def login(request):\n    form = LoginForm(request.POST)\n    ...",
    )
    t.tool("Bash", {"command": "pytest tests/test_cart.py -q"}, LONG_OUTPUT)
    t.say(
        "Here is the limiter, a sliding window kept in Redis:\n\n"
        "```python\n"
        "def allow(ip: str, limit: int = 5, window: int = 60) -> bool:\n"
        '    key = f"login:{ip}"\n'
        "    count = redis.incr(key)\n"
        "    if count == 1:\n"
        "        redis.expire(key, window)\n"
        "    return count <= limit\n"
        "```\n\n"
        "| attempts | result |\n|---|---|\n| 1-5 | allowed |\n| 6+ | **429** |\n\n"
        "See the [Redis docs](https://redis.io/docs/latest/commands/incr/) for `INCR`.",
        tokens=(5200, 640),
    )
    t.user("Also show me the error page you chose.")
    t.tool(
        "Bash",
        {"command": "curl -si localhost:8000/login -d 'u=a&p=b'"},
        "curl: (7) Failed to connect to localhost port 8000",
        is_error=True,
    )
    t.say("The dev server is not running; start it with `make run` and try again.")
    return t


def design_session(session_id: str, start: datetime) -> Transcript:
    t = Transcript(
        session_id, cwd="/home/alice/work/site", model=OPUS, branch="redesign", start=start
    )
    t.user(
        [
            {"type": "text", "text": "Make the header look like this mock-up:"},
            {
                "type": "image",
                "source": {"type": "base64", "media_type": "image/png", "data": tiny_png()},
            },
        ]
    )
    t.say("A two-column header with the logo on the left. I'll update `header.css`.")
    t.compact("The user asked for a header matching a mock-up; the CSS grid is in place.")
    t.say("Continuing after the compaction: the header now matches the mock-up.")
    return t


def xss_session(session_id: str, start: datetime) -> Transcript:
    t = Transcript(session_id, cwd=f"/tmp/{XSS}", model=HAIKU, start=start)
    t.user(XSS)
    t.say(f"Echoing it back: {XSS}\n\n```html\n{XSS}\n```")
    t.tool("Bash", {"command": XSS}, XSS)
    return t


def populate(store: SessionStore, *, hostile: bool = True) -> dict[str, str]:
    """Save the sample sessions, a day or two apart (their entries' timestamps date them);
    ``hostile`` adds the session full of markup payloads.

    Returns the ids by name: ``auth``, ``design``, ``xss``, ``fork``, ``fork2``,
    and ``api-<n>`` for a few plain ones.
    """
    ids: dict[str, str] = {}

    def at(number: int) -> datetime:
        return datetime(2026, 3, 1, 9, 30, tzinfo=timezone.utc) + timedelta(days=number)

    models = [SONNET, OPUS, HAIKU]
    for n in range(6):
        t = Transcript(
            sid(100 + n), cwd=f"/home/alice/work/api-{n % 3}", model=models[n % 3], start=at(n * 2)
        )
        t.user(f"Write the users API endpoint number {n} with pagination")
        t.say(f"Endpoint {n} is done: `GET /users?page={n}` returns 50 users a page.")
        store.save_session(t.session_id, t.entries, tags=["api", f"v{n % 2 + 1}"])
        ids[f"api-{n}"] = t.session_id
    auth = auth_session(sid(1), at(12))
    store.save_session(
        sid(1), auth.entries, tags=["auth", "security"], description="Login rate limit"
    )
    ids["auth"] = sid(1)
    store.save_session(sid(2), design_session(sid(2), at(13)).entries, tags=["design"])
    ids["design"] = sid(2)
    fork = Transcript(sid(3), cwd=auth.cwd, model=SONNET, start=at(14))
    fork.entries = [dict(e, sessionId=sid(3)) for e in auth.entries[:3]]
    fork._n = 100
    fork.user("Use a token bucket instead of a sliding window.")
    fork.say("Switched to a token bucket: smoother bursts, same limit.")
    store.record_run(
        sid(3), fork.entries, forked_from=sid(1), forked_at=auth.entries[2]["uuid"], tags=["auth"]
    )
    ids["fork"] = sid(3)
    fork2 = Transcript(sid(4), cwd=auth.cwd, model=SONNET, start=at(15))
    fork2._n = 200
    fork2.user("Try it with nginx limit_req instead.")
    fork2.say("`limit_req_zone $binary_remote_addr zone=login:10m rate=5r/m;` does it.")
    store.record_run(sid(4), fork2.entries, forked_from=sid(1), tags=["auth", "nginx"])
    ids["fork2"] = sid(4)
    if hostile:
        xss = xss_session(sid(5), at(16))
        store.save_session(sid(5), xss.entries, tags=["xss-<b>"], description=f"desc {XSS}")
        ids["xss"] = sid(5)
    return ids


def long_session(session_id: str, turns: int) -> list[dict[str, Any]]:
    """A session of ``turns`` prompts, each answered after a tool call (four entries a turn)."""
    t = Transcript(session_id, cwd="/home/alice/work/big")
    for n in range(turns):
        t.user(f"Step {n}: check the build")
        t.tool("Bash", {"command": f"make step-{n}"}, f"step {n} ok\n" * 3)
        t.say(f"Step {n} passed. **Next** comes step {n + 1}.")
    return t.entries
