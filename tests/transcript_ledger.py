"""An independent ledger of Claude Code transcripts, counted from the raw lines.

It imports neither our importer nor our store: it reads a CLI config dir
(``<root>/projects/<project>/<session>.jsonl`` and every
``<session>/subagents/**/agent-*.jsonl`` under it, and the subagent transcripts
Claude Code 2.0 wrote beside the sessions, ``<project>/agent-<id>.jsonl``, whose
first line names their session) line by line and counts what a user could count
by hand, to check the importer against later.

Per session (a main transcript plus its subagent transcripts):

- lines read (non-blank), lines that are JSON objects, bad lines (not JSON, or
  JSON that is not an object), entry types;
- distinct ``uuid`` values, and uuids seen more than once: with the same
  content (byte-for-byte after canonical JSON encoding) or different content;
- API requests: ``type == "assistant"`` entries with a ``message.usage``
  mapping, deduplicated by ``(message.id, requestId)`` (the CLI writes one
  entry per content block of a response, each repeating the usage); the LAST
  entry of a request, in file order, is the one counted (its usage is the
  final one). An entry with neither id is a request of its own. The CLI's
  ``<synthetic>`` placeholder messages are not API requests. Usage copied into
  other entries (``progress`` entries that echo a subagent's messages) is not
  counted: the subagent's own transcript is. Lines of the main transcript marked
  ``isSidechain`` (older CLIs wrote each subagent's conversation there) are
  the subagents' too;
- tokens ``(input incl. cache writes and reads, output)`` for the main
  transcript, the subagents, and the session (requests deduplicated across
  both);
- the same requests by model (:class:`ModelTally`): each request under the model
  its counted entry names, with its cost and its tokens read straight from the
  raw ``usage`` fields: plain ``input_tokens``, ``output_tokens``,
  ``cache_creation_input_tokens`` split into 1-hour writes
  (``cache_creation.ephemeral_1h_input_tokens``) and the rest (5-minute), and
  ``cache_read_input_tokens``; and each request's ``timestamp``;
- cost in USD with the project's price table
  (:func:`claude_sessions.model.pricing.default_price_table`), except that a request
  whose counted entry carries a numeric ``costUSD`` (older CLIs) takes that
  figure; models the table does not price are listed with their request
  count and add nothing to the cost;
- the title and first prompt the official SDK gives the session
  (``claude_agent_sdk``: ``summary``, ``custom_title``, ``first_prompt``), and
  the first prompt its helper finds in the main transcript's own lines (its
  ``isSidechain`` lines left out) and in the first subagent transcript;
- sidechains in the main transcript: their lines, and how many conversations
  they hold (a line whose ``parentUuid`` names no sidechain line starts one);
- assistant lines of the main conversation and of the subagents (in-file
  sidechains and subagent transcripts), and the first model each names;
- the first prompt a person sees (:func:`shown_first_prompt`): the first text
  the main conversation's user typed, without Claude Code's wrappers and notices.

Across sessions (:class:`Ledger`): a fork copies its parent's entries with the
same uuids and the same request ids into its own file, so a request is counted
once in the ledger's totals however many sessions replay it; each session also
reports how many of its requests appear in another session's files, and its
OWN requests: those its file does not say another session made. The CLI
writes ``requestSessionId`` on the requests a fork copies (the session that
made them; the official SDK's forks write ``forkedFrom.sessionId``), so a
request is owned by the session its counted entry names, else by the session
whose file holds it.

Summaries: each session's ``summary`` entries by the ``leafUuid`` they name,
and the uuids of its main transcript's entries, so a reader can tell which
session holds the entry a summary names.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from claude_sessions.model.pricing import PriceTable, default_price_table, token_counts

SYNTHETIC_MODEL = "<synthetic>"

RequestKey = tuple[str, str]


@dataclass
class Request:
    """One API request as the ledger counts it."""

    key: RequestKey
    model: str | None
    usage: Mapping[str, Any]
    cost_usd: float | None  # the entry's own costUSD, when it has one
    in_subagent: bool
    made_by: str | None = None  # the session the entry says made it (a fork's copy)
    timestamp: str | None = None

    @property
    def tokens(self) -> tuple[int, int]:
        return token_counts(self.usage)

    @property
    def parts(self) -> tuple[int, int, int, int, int]:
        """``(plain input, output, 5-minute cache writes, 1-hour writes, cache reads)``,
        from the raw usage fields."""
        usage = self.usage
        split = usage.get("cache_creation")
        hour = split.get("ephemeral_1h_input_tokens", 0) if isinstance(split, Mapping) else 0
        written = usage.get("cache_creation_input_tokens", 0)
        return (
            usage.get("input_tokens", 0),
            usage.get("output_tokens", 0),
            written - hour,
            hour,
            usage.get("cache_read_input_tokens", 0),
        )


@dataclass
class ModelTally:
    """Requests of one model, added up (``input``: plain input)."""

    requests: int = 0
    cost: float = 0.0
    input: int = 0
    output: int = 0
    cache_write_5m: int = 0
    cache_write_1h: int = 0
    cache_read: int = 0

    def add(self, request: Request, cost: float) -> None:
        self.requests += 1
        self.cost += cost
        plain, output, five, hour, read = request.parts
        self.input += plain
        self.output += output
        self.cache_write_5m += five
        self.cache_write_1h += hour
        self.cache_read += read


@dataclass
class SessionLedger:
    session_id: str
    project: str
    main_file: Path | None = None
    subagent_files: list[Path] = field(default_factory=list)
    lines_read: int = 0
    json_objects: int = 0
    bad_lines: int = 0
    entry_types: Counter[str] = field(default_factory=Counter)
    distinct_uuids: int = 0
    duplicate_uuids_same: int = 0
    duplicate_uuids_different: int = 0
    requests: dict[RequestKey, Request] = field(default_factory=dict)
    requests_in_other_sessions: int = 0
    tokens_main: tuple[int, int] = (0, 0)
    tokens_subagents: tuple[int, int] = (0, 0)
    tokens_total: tuple[int, int] = (0, 0)
    cost_main: float = 0.0
    cost_subagents: float = 0.0
    cost_total: float = 0.0
    costusd_requests: int = 0
    unpriced: Counter[str] = field(default_factory=Counter)
    sdk_summary: str | None = None
    sdk_custom_title: str | None = None
    sdk_first_prompt: str | None = None
    first_prompt_main_chain: str | None = None
    first_prompt_subagent: str | None = None
    sidechain_lines: int = 0
    sidechains: int = 0
    assistant_lines_main: int = 0
    assistant_lines_subagents: int = 0
    model_main: str | None = None
    model_subagents: str | None = None
    shown_first_prompt: str | None = None
    tokens_own: tuple[int, int] = (0, 0)
    cost_own: float = 0.0
    summaries: dict[str, str] = field(default_factory=dict)  # by the leafUuid they name
    main_uuids: set[str] = field(default_factory=set)
    by_model: dict[str, ModelTally] = field(default_factory=dict)  # all its requests

    def as_dict(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "project": self.project,
            "files": 1 + len(self.subagent_files) if self.main_file else len(self.subagent_files),
            "lines_read": self.lines_read,
            "json_objects": self.json_objects,
            "bad_lines": self.bad_lines,
            "distinct_uuids": self.distinct_uuids,
            "duplicate_uuids_same": self.duplicate_uuids_same,
            "duplicate_uuids_different": self.duplicate_uuids_different,
            "requests": len(self.requests),
            "requests_in_other_sessions": self.requests_in_other_sessions,
            "tokens_main": list(self.tokens_main),
            "tokens_subagents": list(self.tokens_subagents),
            "tokens_total": list(self.tokens_total),
            "cost_main": round(self.cost_main, 6),
            "cost_subagents": round(self.cost_subagents, 6),
            "cost_total": round(self.cost_total, 6),
            "costusd_requests": self.costusd_requests,
            "unpriced": dict(self.unpriced),
            "sdk_summary": self.sdk_summary,
            "sdk_custom_title": self.sdk_custom_title,
            "sdk_first_prompt": self.sdk_first_prompt,
            "first_prompt_main_chain": self.first_prompt_main_chain,
            "first_prompt_subagent": self.first_prompt_subagent,
            "sidechain_lines": self.sidechain_lines,
            "sidechains": self.sidechains,
            "assistant_lines_main": self.assistant_lines_main,
            "assistant_lines_subagents": self.assistant_lines_subagents,
            "model_main": self.model_main,
            "model_subagents": self.model_subagents,
            "shown_first_prompt": self.shown_first_prompt,
        }


@dataclass
class Ledger:
    sessions: dict[str, SessionLedger]
    tokens_total: tuple[int, int] = (0, 0)
    cost_total: float = 0.0
    requests_total: int = 0
    by_model: dict[str, ModelTally] = field(default_factory=dict)  # each request once
    requests: list[Request] = field(default_factory=list)  # each once, with its cost

    @property
    def all_models(self) -> ModelTally:
        """Every model's figures added up."""
        whole = ModelTally()
        for tally in self.by_model.values():
            for name in (item.name for item in fields(ModelTally)):
                setattr(whole, name, getattr(whole, name) + getattr(tally, name))
        return whole


def _costusd(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) and number >= 0 else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _read_file(
    path: Path, session: SessionLedger, in_subagent: bool, uuids: dict[str, set[str]]
) -> None:
    sidechain_uuids: set[str] = set()
    with path.open("rb") as handle:
        for position, raw in enumerate(handle):
            if not raw.strip():
                continue
            session.lines_read += 1
            try:
                entry = json.loads(raw.decode("utf-8", "replace"))
            except ValueError:
                session.bad_lines += 1
                continue
            if not isinstance(entry, dict):
                session.bad_lines += 1
                continue
            session.json_objects += 1
            kind = entry.get("type")
            session.entry_types[kind if isinstance(kind, str) else repr(kind)] += 1
            uuid = _str(entry.get("uuid"))
            if uuid:
                uuids.setdefault(uuid, set()).add(json.dumps(entry, sort_keys=True))
                if not in_subagent:
                    session.main_uuids.add(uuid)
            if kind == "summary" and _str(entry.get("leafUuid")) and _str(entry.get("summary")):
                session.summaries[entry["leafUuid"]] = entry["summary"]
            subagents = in_subagent or entry.get("isSidechain") is True
            if not in_subagent and subagents:
                _sidechain_line(session, entry, sidechain_uuids)
            message = entry.get("message")
            if kind != "assistant" or not isinstance(message, Mapping):
                continue
            model = _str(message.get("model"))
            _assistant_line(session, model, subagents)
            usage = message.get("usage")
            if not isinstance(usage, Mapping) or model == SYNTHETIC_MODEL:
                continue
            message_id = _str(message.get("id"))
            request_id = _str(entry.get("requestId"))
            if message_id or request_id:
                key: RequestKey = (message_id or "", request_id or "")
            else:
                key = ("", f"{path}#{position}")
            session.requests[key] = Request(
                key,
                model,
                usage,
                _costusd(entry.get("costUSD")),
                subagents,
                _made_by(entry),
                _str(entry.get("timestamp")),
            )


def _made_by(entry: Mapping[str, Any]) -> str | None:
    """The other session a copied request names as its maker, if any."""
    forked = entry.get("forkedFrom")
    named = _str(entry.get("requestSessionId")) or (
        _str(forked.get("sessionId")) if isinstance(forked, Mapping) else None
    )
    return named if named != entry.get("sessionId") else None


def _sidechain_line(session: SessionLedger, entry: dict[str, Any], seen: set[str]) -> None:
    """Count a main-transcript line marked ``isSidechain``: a conversation starts at each
    one whose parent is no sidechain line seen before it."""
    session.sidechain_lines += 1
    if _str(entry.get("parentUuid")) not in seen:
        session.sidechains += 1
    if _str(entry.get("uuid")):
        seen.add(entry["uuid"])


def _assistant_line(session: SessionLedger, model: str | None, subagents: bool) -> None:
    known = model if model != SYNTHETIC_MODEL else None
    if subagents:
        session.assistant_lines_subagents += 1
        session.model_subagents = session.model_subagents or known
    else:
        session.assistant_lines_main += 1
        session.model_main = session.model_main or known


def _count_uuids(
    session: SessionLedger, uuids: dict[str, set[str]], occurrences: Counter[str]
) -> None:
    session.distinct_uuids = len(uuids)
    for uuid, contents in uuids.items():
        if occurrences[uuid] > 1:
            if len(contents) == 1:
                session.duplicate_uuids_same += 1
            else:
                session.duplicate_uuids_different += 1


def _add(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    return a[0] + b[0], a[1] + b[1]


def _request_cost(request: Request, table: PriceTable, session: SessionLedger) -> float:
    if request.cost_usd is not None:
        session.costusd_requests += 1
        return request.cost_usd
    cost = table.cost(request.model, request.usage)
    if cost is None:
        session.unpriced[request.model or "(no model)"] += 1
        return 0.0
    return cost


def _sdk_info(session: SessionLedger) -> None:
    """Title and first prompt as the official SDK computes them for this file.

    The SDK's ``list_sessions``/``get_session_info`` locate the file from a
    project path; here the file is known, so its own two helpers that those
    functions call are used on it directly.
    """
    from claude_agent_sdk._internal import sessions as sdk_sessions

    if session.subagent_files:
        head = session.subagent_files[0].read_text(encoding="utf-8", errors="replace")
        session.first_prompt_subagent = sdk_sessions._extract_first_prompt_from_head(head) or None
    if session.main_file is None:
        return
    lines = session.main_file.read_text(encoding="utf-8", errors="replace").splitlines()
    own = "\n".join(line for line in lines if not _is_sidechain_line(line))
    session.first_prompt_main_chain = sdk_sessions._extract_first_prompt_from_head(own) or None
    lite = sdk_sessions._read_session_lite(session.main_file)
    if lite is None:
        return
    info = sdk_sessions._parse_session_info_from_lite(session.session_id, lite)
    if info is None:
        return
    session.sdk_summary = info.summary
    session.sdk_custom_title = info.custom_title
    session.sdk_first_prompt = info.first_prompt


def _is_sidechain_line(line: str) -> bool:
    try:
        entry = json.loads(line)
    except ValueError:
        return False
    return isinstance(entry, dict) and entry.get("isSidechain") is True


def _legacy_parent(path: Path) -> str | None:
    """The session a Claude Code 2.0 subagent transcript beside the sessions
    (``<project>/agent-<id>.jsonl``) belongs to: the ``sessionId`` of its first line,
    a sidechain's; ``None`` for any other file."""
    if not path.name.startswith("agent-"):
        return None
    with path.open("rb") as handle:
        first = next((raw for raw in handle if raw.strip()), b"")
    try:
        entry = json.loads(first.decode("utf-8", "replace"))
    except ValueError:
        return None
    if not isinstance(entry, dict) or entry.get("isSidechain") is not True:
        return None
    parent = _str(entry.get("sessionId"))
    return parent if parent != path.stem else None


def _session_files(projects: Path) -> Iterable[tuple[str, str, Path, bool]]:
    """``(project, session id, path, is subagent)`` for every transcript under ``projects``."""
    for project in sorted(p for p in projects.iterdir() if p.is_dir()):
        for main in sorted(project.glob("*.jsonl")):
            parent = _legacy_parent(main)
            if parent is None:
                yield project.name, main.stem, main, False
            else:
                yield project.name, parent, main, True
        for session_dir in sorted(p for p in project.iterdir() if p.is_dir()):
            subagents = session_dir / "subagents"
            if subagents.is_dir():
                for agent in sorted(subagents.rglob("agent-*.jsonl")):
                    yield project.name, session_dir.name, agent, True


def build_ledger(root: str | Path, table: PriceTable | None = None, *, sdk: bool = True) -> Ledger:
    """The ledger of every session under ``root`` (a config dir or its ``projects``)."""
    prices = default_price_table() if table is None else table
    base = Path(root)
    projects = base / "projects" if (base / "projects").is_dir() else base
    sessions: dict[str, SessionLedger] = {}
    uuids: dict[str, dict[str, set[str]]] = {}
    occurrences: dict[str, Counter[str]] = {}
    for project, session_id, path, in_subagent in _session_files(projects):
        session = sessions.setdefault(session_id, SessionLedger(session_id, project))
        if in_subagent:
            session.subagent_files.append(path)
        else:
            session.main_file = path
        seen: dict[str, set[str]] = {}
        _read_file(path, session, in_subagent, seen)
        merged = uuids.setdefault(session_id, {})
        counts = occurrences.setdefault(session_id, Counter())
        for uuid, contents in seen.items():
            merged.setdefault(uuid, set()).update(contents)
        counts.update(_uuid_occurrences(path))
    owners: Counter[RequestKey] = Counter()
    for session in sessions.values():
        owners.update(list(session.requests))
    everything: dict[RequestKey, Request] = {}
    for session in sessions.values():
        _count_uuids(session, uuids[session.session_id], occurrences[session.session_id])
        for request in session.requests.values():
            tokens = request.tokens
            cost = _request_cost(request, prices, session)
            if request.in_subagent:
                session.tokens_subagents = _add(session.tokens_subagents, tokens)
                session.cost_subagents += cost
            else:
                session.tokens_main = _add(session.tokens_main, tokens)
                session.cost_main += cost
            session.tokens_total = _add(session.tokens_total, tokens)
            session.cost_total += cost
            session.by_model.setdefault(request.model or "", ModelTally()).add(request, cost)
            if request.made_by in (None, session.session_id):
                session.tokens_own = _add(session.tokens_own, tokens)
                session.cost_own += cost
            if owners[request.key] > 1:
                session.requests_in_other_sessions += 1
            everything.setdefault(request.key, request)
        if sdk:
            _sdk_info(session)
        if session.main_file is not None:
            _read_prompts(session.main_file, session)
    ledger = Ledger(sessions, requests_total=len(everything))
    scratch = SessionLedger("(all)", "")
    for request in everything.values():
        ledger.tokens_total = _add(ledger.tokens_total, request.tokens)
        cost = _request_cost(request, prices, scratch)
        ledger.cost_total += cost
        ledger.by_model.setdefault(request.model or "", ModelTally()).add(request, cost)
        ledger.requests.append(request)
    return ledger


# -- the first prompt a person sees --------------------------------------------------------
# Claude Code's own notices, written as user text: the ones agentsview skips
# (internal/parser/claude.go), the official SDK's, and the caveat older versions wrote.
NOTICE_STARTS = (
    "<local-command-",
    "<command-",
    "<bash-",
    "<task-notification>",
    "<session-start-hook>",
    "<tick>",
    "<goal>",
    "[Request interrupted by user",
    "Stop hook feedback:",
    "This session is being continued from a previous conversation",
    "Caveat: The messages below were generated by the user while running local commands",
)
CONTEXT_TAGS = ("system-reminder", "ide_opened_file", "ide_selection")
PROMPT_LENGTH = 200


def _between(text: str, start: str, end: str) -> str | None:
    first = text.find(start)
    if first < 0:
        return None
    last = text.find(end, first + len(start))
    return text[first + len(start) : last] if last >= 0 else None


def _typed_command(text: str) -> str | None:
    name = _between(text, "<command-name>", "</command-name>")
    if name is not None:
        name = " ".join(name.split())
        name = name if not name or name.startswith("/") else "/" + name
        args = " ".join((_between(text, "<command-args>", "</command-args>") or "").split())
        return f"{name} {args}".strip() or None
    stripped = text.strip()
    if stripped.startswith("<bash-input>") and stripped.endswith("</bash-input>"):
        return "!" + stripped[len("<bash-input>") : -len("</bash-input>")].strip()
    return None


def _without_context(text: str) -> str:
    for tag in CONTEXT_TAGS:
        while (start := text.find(f"<{tag}>")) >= 0:
            end = text.find(f"</{tag}>", start)
            if end < 0:
                break
            text = text[:start] + " " + text[end + len(tag) + 3 :]
    return text


def _cut(text: str) -> str:
    return text if len(text) <= PROMPT_LENGTH else text[:PROMPT_LENGTH].rstrip() + "\u2026"


def _user_texts(entry: Mapping[str, Any]) -> list[str]:
    """The texts of a user entry a person may have typed ([] for results, meta, summaries)."""
    if entry.get("type") != "user" or entry.get("isMeta") is True:
        return []
    if entry.get("isCompactSummary") is True:
        return []
    message = entry.get("message")
    content = message.get("content") if isinstance(message, Mapping) else None
    if isinstance(content, str):
        return [content]
    if not isinstance(content, list):
        return []
    blocks = [block for block in content if isinstance(block, Mapping)]
    if any(block.get("type") == "tool_result" for block in blocks):
        return []
    return [b["text"] for b in blocks if b.get("type") == "text" and isinstance(b.get("text"), str)]


def shown_first_prompt(entries: Iterable[Mapping[str, Any]]) -> str | None:
    """The first text a person typed, on one line, without system reminders and IDE
    context; a slash (or ``!``) command with its arguments when there is nothing else."""
    command = None
    for entry in entries:
        for text in _user_texts(entry):
            typed = _typed_command(text)
            if typed is not None:
                command = command or _cut(typed)
                continue
            shown = " ".join(_without_context(text).split())
            if shown and not shown.startswith(NOTICE_STARTS):
                return _cut(shown)
    return command


def _json_objects(path: Path) -> Iterator[dict[str, Any]]:
    """The lines of ``path`` that are JSON objects, parsed; the rest left out."""
    with path.open("rb") as handle:
        for raw in handle:
            try:
                entry = json.loads(raw.decode("utf-8", "replace"))
            except ValueError:
                continue
            if isinstance(entry, dict):
                yield entry


def _read_prompts(path: Path, session: SessionLedger) -> None:
    """The first prompt of the main conversation (its sidechains, a subagent's, left out)."""
    entries = [e for e in _json_objects(path) if e.get("isSidechain") is not True]
    session.shown_first_prompt = shown_first_prompt(entries)


def _uuid_occurrences(path: Path) -> Counter[str]:
    return Counter(e["uuid"] for e in _json_objects(path) if _str(e.get("uuid")))


def main(argv: list[str] | None = None) -> None:  # pragma: no cover - a tool for people
    import sys

    args = sys.argv[1:] if argv is None else argv
    ledger = build_ledger(args[0] if args else Path(__file__).parent / "fixtures" / "transcripts")
    report = {
        "sessions": [s.as_dict() for s in ledger.sessions.values()],
        "requests_total": ledger.requests_total,
        "tokens_total": list(ledger.tokens_total),
        "cost_total": round(ledger.cost_total, 6),
    }
    sys.stdout.write(json.dumps(report, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":  # pragma: no cover
    main()
