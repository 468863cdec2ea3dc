"""Search snippets: made from the stored text in bounded time, the same on both databases."""

from __future__ import annotations

import time

import pytest

from claude_sessions.model import text_query
from claude_sessions.store import snippets

from .store_samples import run


def snippet_of(query: str, *texts: str | None) -> str | None:
    return snippets.snippet(texts, text_query.parse(query))


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        ("fox", "The quick brown fox jumps", "The quick brown [fox] jumps"),
        # three words before the first match, a dozen in all, ellipses where text was cut
        (
            "fox",
            "one two three four five six fox a b c d e f g h i j",
            "\u2026four five six [fox] a b c d e f g h\u2026",
        ),
        ('"lazy dog"', "over the lazy \n  dog.", "over the [lazy dog]."),
        ("jump*", "it jumps, jumped", "it [jumps], [jumped]"),
        ("auth NOT oauth", "oauth then auth", "oauth then [auth]"),  # NOT terms stay unmarked
        ("cafe", "au Café Flore", "au [Café] Flore"),  # accents folded, as SQLite does
        ("café", "au cafe Flore", "au [cafe] Flore"),
        # only Latin letters are folded: a kana keeps its voicing mark, as both engines do
        ("開発コマンド", "**開発コマンド:** 更新", "**[開発コマンド]:** 更新"),
        ("foo", "xx foo_bar yy", "xx [foo]_bar yy"),  # "_" separates words, as in both engines
        ("bar", "xx foobar yy", "xx foobar yy"),  # never inside a word
        ("GraphQL", "use graphql OR GRAPHQL", "use [graphql] OR [GRAPHQL]"),
    ],
)
def test_snippet_marks_what_the_engines_match(query, text, expected):
    assert snippet_of(query, text) == expected


def test_the_first_text_with_a_match_wins_and_empty_texts_give_none():
    assert snippet_of("limiter", "A title", "the rate limiter") == "the rate [limiter]"
    assert snippet_of("title", "A title", "the rate limiter") == "A [title]"
    assert snippet_of("nothing", "", "first words of the body") == "first words of the body"
    assert snippet_of("x", None, "", "  ") is None


def test_a_match_past_the_scanned_part_leaves_the_first_words_unmarked():
    text = "start " + "x " * snippets.SCAN_CHARS + "needle"
    found = snippet_of("needle", text)
    assert found is not None and found.startswith("start x x") and "[" not in found


def test_a_pasted_log_costs_one_scan_not_the_square_of_its_matches():
    # Each word matches: the engines' snippet functions took 5.7 s at 0.9 MB.
    text = "lorem ipsum " * 400_000  # 4.8 MB
    started = time.perf_counter()
    found = snippet_of("lorem OR ipsum", text)
    took = time.perf_counter() - started
    assert found is not None and found.startswith("[lorem] [ipsum] [lorem]")
    assert took < 0.5, took


def test_search_of_a_huge_session_answers_within_its_time_limit(store):
    """A 2 MB prompt of one repeated word: SQLite's snippet() needed about 25 s for it
    (its cost grows with the square of the matches) and no time limit could stop it."""
    store.save_session("huge", run("huge", text="lorem ipsum dolor " * 120_000))
    store.save_session("small", run("small", text="a small lorem session"))
    started = time.perf_counter()
    found = store.search(text="lorem")
    took = time.perf_counter() - started
    assert {meta.session_id for meta in found} == {"huge", "small"}
    snippet = {meta.session_id: meta.snippet for meta in found}
    assert snippet["huge"] == (
        "[lorem] ipsum dolor [lorem] ipsum dolor [lorem] ipsum dolor [lorem] ipsum dolor\u2026"
    )
    assert snippet["small"] == "a small [lorem] session"
    assert took < 5, took  # the limit is 0.8 s; generous for a loaded machine


def test_snippets_are_the_same_on_both_databases(store):
    store.save_session(
        "s-1",
        run("s-1", text="We picked GraphQL over REST because the schema was typed."),
        description="API design",
    )
    [hit] = store.search(text="graphql schema")
    assert hit.snippet == "We picked [GraphQL] over REST because the [schema] was typed."
    [by_description] = store.search(text="design")
    assert by_description.snippet == "API [design]"
