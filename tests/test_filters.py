"""SessionFilter: one definition of every filter, and every face generated from it."""

from __future__ import annotations

import json
import subprocess
import sys
import typing
from dataclasses import fields
from datetime import date, datetime, timezone

import pytest

from claude_sessions import InvalidQueryError
from claude_sessions.model.filters import FilterArgs, Kind, SessionFilter, read_text, specs

from .transcript_samples import conversation, sid


def test_the_keyword_arguments_are_the_filters():
    assert list(typing.get_type_hints(FilterArgs)) == [item.name for item in fields(SessionFilter)]
    assert list(specs()) == [item.name for item in fields(SessionFilter)]


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"tags": 5}, "tags must be a list of strings"),
        ({"tags": ["a", 5]}, "a tag is a string"),
        ({"match_all_tags": "yes"}, "match_all_tags must be True or False"),
        ({"after": "2026-01-01"}, "after must be a date or datetime"),
        ({"min_cost": -1}, "min_cost must be a finite number >= 0"),
        ({"max_cost": float("nan")}, "max_cost must be a finite number >= 0"),
        ({"min_cost": True}, "min_cost must be a number"),
        ({"model": "  "}, "model cannot be empty"),
        ({"project": 3}, "project must be a string"),
        ({"min_cost": 2, "max_cost": 1}, "min_cost (2.0) is above max_cost (1.0)"),
        ({"after": date(2026, 3, 2), "before": date(2026, 3, 1)}, "after (2026-03-02) is above"),
        ({"text": "a*"}, "a prefix needs at least 3 characters"),
    ],
)
def test_bad_filters_are_refused_when_made(given, message):
    with pytest.raises(InvalidQueryError, match=message.replace("(", r"\(").replace(")", r"\)")):
        SessionFilter(**given)


def test_values_are_normalised():
    made = SessionFilter(tags=[" a ", "b", "a", ""], model=" opus ", before=date(2026, 3, 1))
    assert made.tags == ("a", "b") and made.model == "opus"
    assert SessionFilter(tags="solo").tags == ("solo",)
    # a date "before" covers its day; "after" and "before" on one day are a valid range
    same_day = SessionFilter(after=date(2026, 3, 1), before=date(2026, 3, 1))
    assert same_day.to_dict() == {"after": "2026-03-01", "before": "2026-03-01"}
    assert SessionFilter() == SessionFilter(tags=None, match_all_tags=None)


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("tags", "auth, api  web", ["auth", "api", "web"]),
        ("match_all_tags", "on", True),
        ("match_all_tags", "", False),
        ("after", "2026-01-31", date(2026, 1, 31)),
        ("after", "2026-01-31T12:00:00Z", datetime(2026, 1, 31, 12, tzinfo=timezone.utc)),
        ("min_cost", "$1.50", 1.5),
        ("model", " sonnet ", "sonnet"),
        ("project", "   ", None),
    ],
)
def test_every_face_reads_text_the_same_way(name, text, expected):
    assert read_text(name, text) == expected


def test_unreadable_text_is_a_clear_error():
    with pytest.raises(InvalidQueryError, match="after: not a date"):
        read_text("after", "yesterday")
    with pytest.raises(InvalidQueryError, match="min_cost is not a number of dollars"):
        read_text("min_cost", "cheap")


def test_every_kind_has_a_face():
    """A kind no face knows would make a filter that shows up nowhere."""
    from claude_sessions.cli.filtering import _METAVARS
    from claude_sessions.mcp.tools import _FILTER_SCHEMAS

    assert set(_FILTER_SCHEMAS) == set(Kind)
    assert set(_METAVARS) | {Kind.FLAG, Kind.WORDS} == set(Kind)


# A filter added to the definition, here and nowhere else, must work in every face and on
# both databases. In a process of its own: the faces are built from the definition when
# they are imported.
THROWAWAY = """
import dataclasses, json, re, sys
from claude_sessions.model import filters
from claude_sessions.model.filters import Kind, Operator


@dataclasses.dataclass(frozen=True)
class WithPrompt(filters.SessionFilter):
    prompt_has: str | None = dataclasses.field(
        default=None,
        metadata=filters._spec(
            Kind.NAME, Operator.CONTAINS, "Prompt has", "The first prompt contains this.",
            columns=("first_prompt",),
        ),
    )


filters.SessionFilter = WithPrompt
filters.specs.cache_clear()

from click.testing import CliRunner
from starlette.testclient import TestClient
from claude_sessions import SessionStore
from claude_sessions.cli import cli
from claude_sessions.mcp import tools
from claude_sessions.web import create_app

location = sys.argv[1]
found = {}
runner = CliRunner()
listed = runner.invoke(cli, ["list", "--prompt-has", "PARSER", "--json", "--store", location])
found["cli"] = [s["session_id"] for s in json.loads(listed.stdout)]
found["cli_help"] = "--prompt-has" in runner.invoke(cli, ["stats", "--help"]).stdout
with SessionStore(location, cleanup_after_days=None) as store:
    found["library"] = [m.session_id for m in store.search(prompt_has="parser")]
    found["usage"] = sum(b.sessions for b in store.usage((), prompt_has="parser"))
    with TestClient(create_app(store)) as client:
        page = client.get("/", params={"prompt_has": "parser"}).text
        found["web"] = sorted(re.findall(r'<a class="title" href="/s/([^"]+)"', page))
        found["web_form"] = 'name="prompt_has"' in page
        usage = client.get("/usage", params={"prompt_has": "parser", "last": "all"}).text
        found["web_usage"] = 'name="prompt_has"' in usage and usage.count('class="title"')
    schemas = (tools.SEARCH_SCHEMA, tools.LIST_SCHEMA, tools.STATS_SCHEMA)
    found["mcp_schema"] = all("prompt_has" in schema["properties"] for schema in schemas)
    asked = {"prompt_has": "parser"}
    answer = tools.call_tool(store, "search_sessions", asked, tools.available_tools())
    found["mcp"] = [s["session_id"] for s in json.loads(answer.text)["sessions"]]
print(json.dumps(found))
"""


def test_a_filter_added_to_the_definition_works_everywhere(store_location):
    from claude_sessions import SessionStore

    with SessionStore(store_location, cleanup_after_days=None) as store:
        for n, prompt in enumerate(["Write a parser", "Fix the login", "Test the Parser"]):
            store.save_session(sid(n), conversation(sid(n), [prompt]))
    done = subprocess.run(
        [sys.executable, "-c", THROWAWAY, store_location], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    parsers = sorted([sid(0), sid(2)])
    assert sorted(found["cli"]) == parsers and found["cli_help"]
    assert sorted(found["library"]) == parsers and found["usage"] == 2
    assert found["web"] == parsers and found["web_form"]
    assert found["web_usage"] == 2  # its form field, and the two sessions in its top list
    assert found["mcp_schema"] and sorted(found["mcp"]) == parsers
