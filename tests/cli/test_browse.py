"""list, search, show, export, tree, stats and path through click's CliRunner."""

from __future__ import annotations

import json

import pytest

from .samples import add_session, as_json


def test_list_table_and_json(ids, invoke):
    result = invoke("list")
    assert result.exit_code == 0, result.output
    for session_id in ids.values():
        assert session_id[:8] in result.stdout
    assert "Parser project" in result.stdout and "$0.5000" in result.stdout
    listed = as_json(invoke("list", "--json"))
    assert [s["session_id"] for s in listed] == [
        ids["grandchild"],
        ids["fork2"],
        ids["fork1"],
        ids["root"],
    ]  # newest first
    assert [s["session_id"] for s in as_json(invoke("list", "--json", "--limit", "1"))] == [
        ids["grandchild"]
    ]
    tagged = as_json(invoke("list", "--json", "--tag", "play"))
    assert [s["session_id"] for s in tagged] == [ids["fork2"]]
    project = as_json(invoke("list", "--json", "--project", "/home/alice/work/my_app"))
    assert len(project) == 4


def test_list_empty_store(invoke):
    result = invoke("list")
    assert result.exit_code == 0 and "No sessions" in result.output
    assert as_json(invoke("list", "--json")) == []


def test_store_option_beats_the_environment(ids, invoke, tmp_path):
    other = tmp_path / "other-store"
    assert as_json(invoke("list", "--json", "--store", str(other))) == []


def test_search_text_with_snippet(ids, invoke):
    found = as_json(invoke("search", "recursive", "descent", "--json"))
    assert [s["session_id"] for s in found] == [ids["fork1"]]
    assert "[recursive]" in found[0]["snippet"]
    table = invoke("search", "recursive")
    assert table.exit_code == 0 and ids["fork1"][:8] in table.stdout
    assert "recursive" in table.stdout and "[recursive]" not in table.stdout


def test_search_tags_any_and_all(ids, invoke):
    anyof = as_json(invoke("search", "--tag", "parser", "--tag", "play", "--json"))
    assert {s["session_id"] for s in anyof} == {ids["root"], ids["fork2"]}
    allof = as_json(invoke("search", "--tag", "work", "--tag", "parser", "--all-tags", "--json"))
    assert [s["session_id"] for s in allof] == [ids["root"]]


def test_search_dates_and_ages(ids, invoke):
    after = as_json(invoke("search", "--after", "2026-03-03", "--json"))
    assert {s["session_id"] for s in after} == {ids["fork2"], ids["grandchild"]}
    before = as_json(invoke("search", "--before", "2026-03-01", "--json"))
    assert [s["session_id"] for s in before] == [ids["root"]]
    iso = as_json(
        invoke(
            "search", "--after", "2026-03-02T00:00:00Z", "--before", "2026-03-02T23:59", "--json"
        )
    )
    assert [s["session_id"] for s in iso] == [ids["fork1"]]
    assert as_json(invoke("search", "--after", "7d", "--json")) == []  # all older than a week
    assert len(as_json(invoke("search", "--before", "12h", "--json"))) == 4


def test_search_cost_model_project(ids, invoke):
    costly = as_json(invoke("search", "--min-cost", "0.4", "--max-cost", "1", "--json"))
    assert [s["session_id"] for s in costly] == [ids["root"]]
    opus = as_json(invoke("search", "--model", "opus", "--json"))
    assert [s["session_id"] for s in opus] == [ids["fork1"]]
    assert as_json(invoke("search", "--project", "/nowhere", "--json")) == []


@pytest.mark.parametrize(
    "args",
    [
        ["--after", "yesterday"],
        ["--min-cost", "2", "--max-cost", "1"],
        ["--after", "2026-03-05", "--before", "2026-03-01"],
        ["--min-cost", "-1"],
    ],
)
def test_search_bad_input_exits_2(ids, invoke, args):
    result = invoke("search", *args)
    assert result.exit_code == 2
    assert "Error" in result.output
    assert "Traceback" not in result.output


def test_show_formats(ids, invoke):
    text = invoke("show", ids["root"][:8])
    assert text.exit_code == 0, text.output
    assert "── User ──\nWrite a parser for TOML" in text.stdout
    assert "Answer to: Write a parser for TOML" in text.stdout
    markdown = invoke("show", ids["root"][:8], "--format", "markdown")
    assert markdown.stdout.startswith("# Parser project")
    data = as_json(invoke("show", ids["root"], "--json"))
    assert data["session"]["session_id"] == ids["root"] and data["messages"]
    assert as_json(invoke("show", ids["root"], "--format", "json")) == data
    html = invoke("show", ids["root"][:8], "--format", "html")
    assert html.stdout.startswith("<!DOCTYPE html>")


def test_show_unknown_and_ambiguous_ids(ids, invoke):
    unknown = invoke("show", "zzzz")
    assert unknown.exit_code == 2
    assert unknown.stderr.strip().startswith("Error:") and len(unknown.stderr.splitlines()) == 1
    ambiguous = invoke("show", "0000000")
    assert ambiguous.exit_code == 2
    assert "ambiguous" in ambiguous.stderr and len(ambiguous.stderr.splitlines()) == 1
    bad = invoke("show", "../etc")
    assert bad.exit_code == 2 and "Traceback" not in bad.output


def test_export_one_and_all(ids, invoke, tmp_path, store):
    evil = add_session(store, 0x20, ["<script>alert(1)</script>"], description="<b>bold</b>")
    page = invoke("export", evil[:8], "--format", "html")
    assert page.exit_code == 0
    assert "<script>alert(1)</script>" not in page.stdout
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.stdout
    assert "&lt;b&gt;bold&lt;/b&gt;" in page.stdout
    target = tmp_path / "one.md"
    written = invoke("export", ids["root"][:8], "--output", str(target))
    assert written.exit_code == 0 and target.read_text().startswith("# Parser project")
    folder = tmp_path / "all"
    exported = as_json(
        invoke("export", "--all", "--format", "json", "--output", str(folder), "--json")
    )
    assert len(exported) == 5
    assert json.loads((folder / f"{ids['fork1']}.json").read_text())["messages"]


@pytest.mark.parametrize(
    "args",
    [[], ["--all"], ["00000001", "--all", "--output", "x"], ["00000001", "--format", "pdf"]],
)
def test_export_bad_usage(ids, invoke, args):
    assert invoke("export", *args).exit_code == 2


def test_export_to_a_directory_needs_all(ids, invoke, tmp_path):
    result = invoke("export", ids["root"][:8], "--output", str(tmp_path))
    assert result.exit_code == 2


def test_tree(ids, invoke):
    data = as_json(invoke("tree", ids["grandchild"][:8], "--json"))
    assert data["focus"] == ids["grandchild"]
    root = data["root"]
    assert root["session"]["session_id"] == ids["root"]
    assert [c["session"]["session_id"] for c in root["children"]] == [ids["fork1"], ids["fork2"]]
    assert root["children"][0]["children"][0]["session"]["session_id"] == ids["grandchild"]
    drawn = invoke("tree", ids["fork2"][:8])
    assert drawn.exit_code == 0
    lines = drawn.stdout.splitlines()
    assert lines[0].startswith(ids["root"][:8])
    assert any(ids["grandchild"][:8] in line and "└──" in line for line in lines)
    assert invoke("tree", "nope").exit_code == 2


def test_tree_of_a_session_whose_origin_was_deleted(ids, invoke, store):
    store.delete_session(ids["root"])
    data = as_json(invoke("tree", ids["fork1"][:8], "--json"))
    assert data["missing_origin"] == ids["root"]
    assert data["root"]["session"]["session_id"] == ids["fork1"]
    drawn = invoke("tree", ids["fork1"][:8])
    assert "no longer stored" in drawn.stdout


def test_stats(ids, invoke):
    data = as_json(invoke("stats", "--json"))
    assert data["sessions"] == 4
    assert data["total_cost"] == pytest.approx(2.3)
    assert [s["session_id"] for s in data["top"]] == [
        ids["fork2"],
        ids["root"],
        ids["fork1"],
        ids["grandchild"],
    ]
    models = {b["key"]: b for b in data["by"]["model"]}
    assert models["claude-opus-4-1"]["cost"] == pytest.approx(0.25)
    tags = {b["key"]: b["sessions"] for b in data["by"]["tag"]}
    assert tags == {"work": 2, "parser": 1, "play": 1, "(none)": 1}
    assert data["by"]["day"][0]["key"] == "2026-03-04"
    filtered = as_json(invoke("stats", "--json", "--tag", "work"))
    assert filtered["sessions"] == 2
    table = invoke("stats")
    assert table.exit_code == 0 and "By model" in table.stdout and "$2.3000" in table.stdout


def test_stats_by_period_and_dates(ids, invoke):
    weeks = as_json(invoke("stats", "--json", "--by", "week", "--by", "month", "--top", "0"))
    assert list(weeks["by"]) == ["week", "month"] and weeks["top"] == []
    # 2026-03-01 is a Sunday: its week starts on Monday 2026-02-23.
    assert {b["key"]: b["sessions"] for b in weeks["by"]["week"]} == {
        "2026-03-02": 3,
        "2026-02-23": 1,
    }
    assert weeks["by"]["month"] == [
        {
            "key": "2026-03",
            "sessions": 4,
            "turns": 4,
            "cost": pytest.approx(2.3),
            "input_tokens": weeks["input_tokens"],
            "uncached_input_tokens": weeks["input_tokens"],  # the samples use no cache
            "cache_write_tokens": 0,
            "cache_write_5m_tokens": 0,
            "cache_write_1h_tokens": 0,
            "cache_read_tokens": 0,
            "output_tokens": weeks["output_tokens"],
            "unpriced_sessions": 0,
        }
    ]
    spring = as_json(invoke("stats", "--json", "--since", "2026-03-02", "--until", "2026-03-03"))
    assert spring["sessions"] == 2 and spring["total_cost"] == pytest.approx(1.75)


def test_stats_empty(invoke):
    result = invoke("stats")
    assert result.exit_code == 0 and "0 sessions" in result.stdout


def test_path(invoke, store, tmp_path, monkeypatch):
    monkeypatch.delenv("CLAUDE_SESSIONS_TRASH_DAYS", raising=False)
    shown = invoke("path")  # with CLAUDE_SESSIONS_CLEANUP_DAYS=never
    assert shown.stdout.strip() == store.location  # alone on stdout, for scripts
    assert "cleanup is off" in shown.stderr and "tagged keep, imported" in shown.stderr
    assert as_json(invoke("path", "--json")) == {
        "location": store.location,
        "cleanup": {
            "cleanup_after_days": None,
            "trash_days": 30,
            "protected_tags": ["keep", "imported"],
        },
    }
    other = tmp_path / "elsewhere"
    assert invoke("path", "--store", str(other)).stdout.strip() == str(other / "sessions.db")
