"""A fake Anthropic Messages API that the real Claude Code CLI can talk to.

It listens on 127.0.0.1, answers ``POST /v1/messages`` with scripted replies
(streamed as Server-Sent Events, or as plain JSON when the request does not
ask for a stream) and records every request, so tests can check what history
the model was actually shown. Any other path gets ``200 {}`` and is logged.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEFAULT_MODEL = "claude-sonnet-4-5-20250929"


@dataclass(frozen=True)
class Reply:
    """One scripted answer to one Messages API request.

    ``status`` other than 200 sends an Anthropic-style error body instead of a
    message; ``delay`` (seconds) is slept before answering.
    """

    text: str = ""
    status: int = 200
    delay: float = 0.0
    error_type: str = "api_error"
    model: str | None = None
    input_tokens: int = 10
    output_tokens: int = 5


@dataclass(frozen=True)
class RecordedRequest:
    """A request the server received, with its JSON body when it had one."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: Any

    @property
    def messages(self) -> list[dict[str, Any]]:
        if isinstance(self.body, dict) and isinstance(self.body.get("messages"), list):
            return list(self.body["messages"])
        return []

    def count_role(self, role: str) -> int:
        """Messages of ``role`` in the request's history (``system`` entries excluded)."""
        return sum(1 for m in self.messages if m.get("role") == role)

    @property
    def last_user_text(self) -> str:
        """The last user prompt, without the ``<system-reminder>`` blocks the CLI adds."""
        for message in reversed(self.messages):
            if message.get("role") == "user":
                return _text_of(message.get("content"), skip_reminders=True)
        return ""

    @property
    def all_text(self) -> str:
        """Every text block of the history, joined: handy for 'was X carried?' checks."""
        return "\n".join(_text_of(m.get("content")) for m in self.messages)


ReplySource = Callable[[RecordedRequest], "Reply | str"]


def echo_reply(request: RecordedRequest) -> Reply:
    """The default script: report what the model was shown.

    The text names the user and assistant turns of the history and repeats the
    last prompt, so an end-to-end test can read from the answer alone whether
    the CLI carried the conversation.
    """
    return Reply(
        f"echo: user_turns={request.count_role('user')} "
        f"assistant_turns={request.count_role('assistant')} "
        f"last={request.last_user_text.strip()[:200]!r}"
    )


class FakeMessagesAPI:
    """A threaded fake of the Messages API, started with ``start()`` or ``with``.

    ``script`` decides the answers: ``None`` echoes (see :func:`echo_reply`), a
    callable gets each :class:`RecordedRequest` and returns a :class:`Reply` or
    a string, and an iterable is consumed one reply per model request, falling
    back to the echo when it runs out.
    """

    def __init__(
        self,
        script: Iterable[Reply | str] | ReplySource | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        model: str = DEFAULT_MODEL,
    ) -> None:
        self.model = model
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._source: ReplySource = echo_reply
        self._queue: Iterator[Reply | str] | None = None
        self.set_script(script)
        self._server = ThreadingHTTPServer((host, port), _make_handler(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def model_requests(self) -> list[RecordedRequest]:
        """Requests to ``/v1/messages`` (what the CLI sent the model)."""
        with self._lock:
            return [r for r in self.requests if r.path.split("?")[0] == "/v1/messages"]

    def set_script(self, script: Iterable[Reply | str] | ReplySource | None) -> None:
        with self._lock:
            if script is None:
                self._source, self._queue = echo_reply, None
            elif callable(script):
                self._source, self._queue = script, None
            else:
                self._source, self._queue = echo_reply, iter(list(script))

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()

    def start(self) -> FakeMessagesAPI:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-messages-api",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeMessagesAPI:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _next_reply(self, request: RecordedRequest) -> Reply:
        with self._lock:
            queued = next(self._queue, None) if self._queue is not None else None
            source = self._source
        answer = queued if queued is not None else source(request)
        return Reply(answer) if isinstance(answer, str) else answer

    def _message_id(self) -> str:
        return f"msg_fake_{next(self._ids):06d}"


def _text_of(content: Any, *, skip_reminders: bool = False) -> str:
    if isinstance(content, str):
        content = [{"type": "text", "text": content}]
    if not isinstance(content, list):
        return ""
    texts = [
        str(block.get("text", ""))
        for block in content
        if isinstance(block, dict) and block.get("type") == "text"
    ]
    if skip_reminders:
        texts = [_strip_reminders(text) for text in texts]
    return "\n".join(text for text in texts if text)


def _strip_reminders(text: str) -> str:
    while (start := text.find("<system-reminder>")) != -1:
        end = text.find("</system-reminder>", start)
        if end == -1:
            return text[:start].strip()
        text = text[:start] + text[end + len("</system-reminder>") :]
    return text.strip()


def _sse_events(reply: Reply, message_id: str, model: str) -> Iterator[tuple[str, dict[str, Any]]]:
    yield (
        "message_start",
        {
            "type": "message_start",
            "message": {
                "id": message_id,
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {"input_tokens": reply.input_tokens, "output_tokens": 1},
            },
        },
    )
    yield (
        "content_block_start",
        {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "text", "text": ""},
        },
    )
    yield (
        "content_block_delta",
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "text_delta", "text": reply.text},
        },
    )
    yield "content_block_stop", {"type": "content_block_stop", "index": 0}
    yield (
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": {"output_tokens": reply.output_tokens},
        },
    )
    yield "message_stop", {"type": "message_stop"}


def _make_handler(api: FakeMessagesAPI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            """Silence the default stderr access log; requests are recorded instead."""

        def handle(self) -> None:
            # The client may leave mid-reply (a stopped CLI): nothing to report.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                super().handle()

        def _read_body(self) -> Any:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if not raw:
                return None
            try:
                return json.loads(raw)
            except ValueError:
                return raw.decode("utf-8", "replace")

        def _record(self) -> RecordedRequest:
            request = RecordedRequest(
                self.command, self.path, dict(self.headers.items()), self._read_body()
            )
            api._record(request)
            return request

        def _send_json(self, status: int, payload: Any) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_HEAD(self) -> None:
            self._record()
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:
            self._record()
            self._send_json(200, {})

        def do_POST(self) -> None:
            request = self._record()
            if request.path.split("?")[0] != "/v1/messages":
                self._send_json(200, {})
                return
            reply = api._next_reply(request)
            if reply.delay:
                time.sleep(reply.delay)
            model = reply.model or api.model
            if reply.status != 200:
                self._send_json(
                    reply.status,
                    {
                        "type": "error",
                        "error": {
                            "type": reply.error_type,
                            "message": reply.text or "injected error",
                        },
                    },
                )
                return
            message_id = api._message_id()
            body = request.body if isinstance(request.body, dict) else {}
            if body.get("stream"):
                self._stream(reply, message_id, model)
            else:
                self._send_json(200, _plain_message(reply, message_id, model))

        def _stream(self, reply: Reply, message_id: str, model: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            for name, payload in _sse_events(reply, message_id, model):
                self.wfile.write(f"event: {name}\ndata: {json.dumps(payload)}\n\n".encode())
                self.wfile.flush()
            self.close_connection = True

    return Handler


def _plain_message(reply: Reply, message_id: str, model: str) -> dict[str, Any]:
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": reply.text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": reply.input_tokens, "output_tokens": reply.output_tokens},
    }


def offline_environment(base_url: str, home: str) -> dict[str, str]:
    """Environment variables that point the CLI at ``base_url`` and keep it offline.

    ``home`` becomes HOME and TMPDIR, so transcripts and settings stay in a
    throw-away directory.
    """
    return {
        "ANTHROPIC_BASE_URL": base_url,
        "ANTHROPIC_API_KEY": "sk-test",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_AUTOUPDATER": "1",
        "DISABLE_TELEMETRY": "1",
        "CLAUDE_CODE_MAX_RETRIES": "1",
        "HOME": home,
        "TMPDIR": home,
    }
