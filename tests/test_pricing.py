"""The price table: model ids parsed, every shipped id priced or deliberately not,
costs per usage, hostile numbers, the user's price file and the prices command."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from claude_sessions.cli import cli
from claude_sessions.model.exceptions import ClaudeSessionsError, PriceTableError
from claude_sessions.model.pricing import (
    KNOWN_UNPRICED,
    PRICES_ENV_VAR,
    ModelId,
    built_in_price_table,
    default_price_table,
    load_price_file,
    parse_model,
    price_report,
    token_counts,
    usage_counts,
)

DATA = Path(__file__).parent / "data"


def _model_rows() -> list[tuple[str, str, str]]:
    rows = []
    for line in (DATA / "cli_model_ids.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            model, *expected, status = line.split()
            rows.append((model, " ".join(expected), status))
    return rows


MODEL_ROWS = _model_rows()


def test_the_id_list_is_substantial():
    assert len(MODEL_ROWS) > 100
    assert {status for _, _, status in MODEL_ROWS} == {"priced", "unpriced"}


@pytest.mark.parametrize(("model", "expected", "status"), MODEL_ROWS)
def test_every_shipped_model_id(model, expected, status):
    parsed = parse_model(model)
    assert (parsed.key if parsed else "-") == expected
    price = built_in_price_table().price_for(model)
    assert (price is not None) == (status == "priced")
    if price is None:  # deliberately unpriced, with a reason on record
        assert expected in KNOWN_UNPRICED or model in KNOWN_UNPRICED


@pytest.mark.parametrize(
    ("model", "family", "version"),
    [
        ("claude-opus-4-20250514", "opus", "4"),
        ("claude-opus-4-1-20250805", "opus", "4.1"),
        ("claude-sonnet-4-5-20250929", "sonnet", "4.5"),
        ("claude-sonnet-4-5", "sonnet", "4.5"),
        ("claude-3-5-sonnet-20241022", "sonnet", "3.5"),
        ("claude-3-7-sonnet-latest", "sonnet", "3.7"),
        ("claude-3-opus-20240229", "opus", "3"),
        ("claude-3-haiku-20240307", "haiku", "3"),
        ("claude-haiku-4-5-20251001", "haiku", "4.5"),
        ("anthropic.claude-3-5-sonnet-20240620-v1:0", "sonnet", "3.5"),
        ("us.anthropic.claude-sonnet-4-20250514-v1:0", "sonnet", "4"),
        ("eu.anthropic.claude-opus-4-1-20250805-v1:0", "opus", "4.1"),
        ("claude-sonnet-4@20250514", "sonnet", "4"),
        ("claude-3-5-sonnet-v2@20241022", "sonnet", "3.5"),
        ("claude-sonnet-4-5-20250929[1m]", "sonnet", "4.5"),
        ("CLAUDE-OPUS-4-6[1M]", "opus", "4.6"),
        ("anthropic/claude-sonnet-4.5", "sonnet", "4.5"),
        ("claude-2.1", "claude", "2.1"),
        (
            "arn:aws:bedrock:us-east-1:1:inference-profile/us.anthropic.claude-opus-4-5-20251101-v1:0",
            "opus",
            "4.5",
        ),
    ],
)
def test_parses_family_and_version(model, family, version):
    parsed = parse_model(model)
    assert parsed is not None and (parsed.family, parsed.version) == (family, version)


@pytest.mark.parametrize(
    "model",
    [None, "", "<synthetic>", "gpt-4o", "claude", "claude-opus", "claude-mythos-preview",
     "claude-opus-4-6-fast", "claude-20250514", 42, "claude-opus-20250514"],
)  # fmt: skip
def test_does_not_parse_what_is_not_a_model_id(model):
    assert parse_model(model) is None
    assert built_in_price_table().cost(model, {"input_tokens": 1000}) is None


def test_a_date_is_never_a_version():
    """The regression: the regex table priced Opus 4 as Opus 4.5 through its date."""
    table = built_in_price_table()
    assert parse_model("claude-opus-4-20250514") == ModelId("opus", 4)
    price = table.price_for("claude-opus-4-20250514")
    assert price is not None and (price.input, price.output) == (15, 75)
    usage = {"input_tokens": 1_000_000, "output_tokens": 1_000_000}
    assert table.cost("claude-opus-4-20250514", usage) == pytest.approx(90.0)
    assert table.cost("claude-opus-4-5-20251101", usage) == pytest.approx(30.0)


# Retired models at the prices Anthropic published for them, USD per million tokens
# in and out: Sonnet 3 at launch (anthropic.com/news/claude-3-family), Claude 2.x and
# Instant 1.2 after the update that came with Claude 2.1 (anthropic.com/news/claude-2-1).
RETIRED = [
    ("claude-3-sonnet-20240229", 3, 15),
    ("anthropic.claude-3-sonnet-20240229-v1:0", 3, 15),
    ("claude-2.1", 8, 24),
    ("claude-2.0", 8, 24),
    ("claude-instant-1.2", 0.8, 2.4),
]


@pytest.mark.parametrize(("model", "per_million_in", "per_million_out"), RETIRED)
def test_retired_models_are_priced_with_their_source(model, per_million_in, per_million_out):
    price = built_in_price_table().price_for(model)
    assert price is not None, model
    assert "https://www.anthropic.com/news/" in price.source
    assert "model-deprecations" in price.source
    usage = {
        "input_tokens": 1_000,
        "output_tokens": 2_000,
        "cache_creation_input_tokens": 400,
        "cache_creation": {"ephemeral_5m_input_tokens": 300, "ephemeral_1h_input_tokens": 100},
        "cache_read_input_tokens": 5_000,
    }
    # Anthropic's caching multipliers of the input price: 5m write 1.25x, 1h 2x, read 0.1x.
    expected = (
        1_000 * per_million_in
        + 2_000 * per_million_out
        + 300 * per_million_in * 1.25
        + 100 * per_million_in * 2
        + 5_000 * per_million_in * 0.1
    ) / 1_000_000
    assert built_in_price_table().cost(model, usage) == pytest.approx(expected)


@pytest.mark.parametrize("model", ["claude-1.3", "claude-1.0", "claude-instant-1.1"])
def test_models_without_a_published_price_stay_unpriced_with_a_reason(model):
    table = built_in_price_table()
    assert table.cost(model, {"input_tokens": 1_000}) is None
    listed = {row["model"] for row in price_report(table)["unpriced"]}
    assert parse_model(model).key in listed


def test_every_built_in_price_names_where_it_comes_from():
    for name, price in built_in_price_table().rows():
        assert "https://" in price.source or "model catalog of Claude Code" in price.source, name


def test_agrees_with_the_cli_catalog():
    """Every model the bundled CLI prices has the same figures here, except the
    long-context premium of Sonnet 4 and 4.5 that the CLI's catalog leaves out."""
    table = built_in_price_table()
    lines = [
        line.split("\t")
        for line in (DATA / "cli_catalog_prices.tsv").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    header, rows = lines[0], lines[1:]
    assert len(rows) >= 20
    for values in rows:
        row = dict(zip(header, values, strict=True))
        price = table.price_for(row["id"])
        assert price is not None, row["id"]
        for name in ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read"):
            assert getattr(price, name) == float(row[name]), (row["id"], name)
        assert price.web_search == float(row["web_search"])
        if row["long_above"] != "-":
            assert price.long_context is not None
            assert price.long_context.above == int(row["long_above"])
            assert price.long_context.rates.input == float(row["long_input"])
            assert price.long_context.rates.cache_read == float(row["long_cache_read"])
        elif parse_model(row["id"]) not in (ModelId("sonnet", 4), ModelId("sonnet", 4, 5)):
            assert price.long_context is None, row["id"]


def test_every_row_names_its_source():
    for name, price in built_in_price_table().rows():
        assert price.source and price.origin == "built-in", name


def test_cost_of_every_kind_of_token():
    usage = {
        "input_tokens": 1_000,
        "output_tokens": 2_000,
        "cache_creation_input_tokens": 3_000,
        "cache_creation": {"ephemeral_5m_input_tokens": 1_000, "ephemeral_1h_input_tokens": 2_000},
        "cache_read_input_tokens": 4_000,
        "server_tool_use": {"web_search_requests": 3},
    }
    expected = (1_000 * 3 + 2_000 * 15 + 1_000 * 3.75 + 2_000 * 6 + 4_000 * 0.3) / 1e6 + 0.03
    assert built_in_price_table().cost("claude-sonnet-4-5", usage) == pytest.approx(expected)


def test_cache_writes_without_a_split_are_five_minute_ones():
    counts = usage_counts({"cache_creation_input_tokens": 500})
    assert (counts.cache_write_5m, counts.cache_write_1h) == (500, 0)
    # a 1h figure larger than the total is capped at the total
    capped = usage_counts(
        {"cache_creation_input_tokens": 10, "cache_creation": {"ephemeral_1h_input_tokens": 99}}
    )
    assert (capped.cache_write_5m, capped.cache_write_1h) == (0, 10)
    # only the breakdown: its sum is the total
    split = usage_counts(
        {"cache_creation": {"ephemeral_5m_input_tokens": 7, "ephemeral_1h_input_tokens": 3}}
    )
    assert (split.cache_write_5m, split.cache_write_1h) == (7, 3)


def test_long_context_is_decided_per_request():
    table = built_in_price_table()
    small = {"input_tokens": 100_000, "cache_read_input_tokens": 100_000, "output_tokens": 1_000}
    large = {"input_tokens": 100_000, "cache_read_input_tokens": 100_001, "output_tokens": 1_000}
    assert table.cost("claude-sonnet-4-5-20250929", small) == pytest.approx(
        (100_000 * 3 + 100_000 * 0.3 + 1_000 * 15) / 1e6
    )
    assert table.cost("claude-sonnet-4-5-20250929[1m]", large) == pytest.approx(
        (100_000 * 6 + 100_001 * 0.6 + 1_000 * 22.5) / 1e6
    )
    # Sonnet 4.6 serves its 1M window at the standard price
    assert table.cost("claude-sonnet-4-6", large) == pytest.approx(
        (100_000 * 3 + 100_001 * 0.3 + 1_000 * 15) / 1e6
    )
    haiku = table.price_for("claude-haiku-5-5")
    assert haiku is not None and haiku.cost({"input_tokens": 100_001}) == pytest.approx(0.0500005)


def test_us_only_inference_costs_a_tenth_more():
    table = built_in_price_table()
    usage = {"input_tokens": 1_000_000, "server_tool_use": {"web_search_requests": 1}}
    assert table.cost("claude-opus-4-6", usage) == pytest.approx(5.01)
    assert table.cost("claude-opus-4-6", {**usage, "inference_geo": "us"}) == pytest.approx(5.51)


@pytest.mark.parametrize(
    "hostile",
    [math.inf, -math.inf, math.nan, -5, True, False, "1000", None, [1], {"a": 1}, 2**80, 1e300],
)
def test_hostile_counts_count_as_zero(hostile):
    usage = {
        "input_tokens": hostile,
        "output_tokens": hostile,
        "cache_creation_input_tokens": hostile,
        "cache_creation": {
            "ephemeral_5m_input_tokens": hostile,
            "ephemeral_1h_input_tokens": hostile,
        },
        "cache_read_input_tokens": hostile,
        "server_tool_use": {"web_search_requests": hostile},
        "inference_geo": hostile,
    }
    assert built_in_price_table().cost("claude-sonnet-4-5", usage) == 0.0
    assert token_counts(usage) == (0, 0)


def test_hostile_usage_shapes_never_raise():
    table = built_in_price_table()
    for usage in (None, [], "usage", 7, {"cache_creation": "x", "server_tool_use": [1]}):
        assert table.cost("claude-opus-4-1", usage) == 0.0
        assert token_counts(usage) == (0, 0)
    assert usage_counts(json.loads('{"input_tokens": 1e400}')).input == 0
    assert usage_counts({"input_tokens": 12.9}).input == 12


def test_token_counts_include_cache_writes_and_reads():
    usage = {
        "input_tokens": 3,
        "cache_creation_input_tokens": 100,
        "cache_read_input_tokens": 1_000,
        "output_tokens": 7,
    }
    assert token_counts(usage) == (1_103, 7)


# ------------------------------------------------------------------ user file


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_user_file_adds_replaces_and_removes(tmp_path, monkeypatch):
    path = _write(
        tmp_path,
        "prices.json",
        json.dumps(
            {
                "models": {
                    "claude-fable-5-3": {"input": 7, "output": 35, "source": "launch post"},
                    "opus 4.1": {"input": 10, "output": 50, "cache_read": 0.9},
                    "sonnet 3.7": None,
                    "my-proxy-model": {"input": 1, "output": 2},
                }
            }
        ),
    )
    monkeypatch.setenv(PRICES_ENV_VAR, str(path))
    table = default_price_table()
    added = table.price_for("us.anthropic.claude-fable-5-3")
    assert added is not None and added.origin == "user" and added.source == "launch post"
    assert (added.cache_write_5m, added.cache_write_1h, added.cache_read) == (8.75, 14, 0.7)
    replaced = table.price_for("claude-opus-4-1-20250805")
    assert replaced is not None and (replaced.input, replaced.cache_read) == (10, 0.9)
    assert table.price_for("claude-3-7-sonnet-20250219") is None
    assert table.price_for("My-Proxy-Model") is not None
    assert table.price_for("claude-opus-4-20250514").origin == "built-in"  # type: ignore[union-attr]
    report = price_report(table)
    assert report["user_file"] == str(path)
    assert {"model": "sonnet 3.7", "reason": "made unpriced by the user file"} in report["unpriced"]
    # an edited file is read again
    path.write_text(json.dumps({"models": {"opus 4.1": {"input": 11, "output": 55}}}) + "\n")
    assert default_price_table().price_for("claude-opus-4-1").input == 11  # type: ignore[union-attr]


def test_user_file_in_toml(tmp_path):
    path = _write(
        tmp_path,
        "prices.toml",
        """
[models."claude-fable-5-2"]
input = 8
output = 40
cache_read = 0.2

[models."sonnet 4.5".long_context]
above_prompt_tokens = 200000
input = 6
output = 22.5
""",
    )
    with pytest.raises(PriceTableError, match=r"models.'sonnet 4.5': missing 'input'"):
        load_price_file(path)
    path.write_text(path.read_text().replace('[models."sonnet 4.5".long_context]', "[x]"))
    with pytest.raises(PriceTableError, match="unknown top-level key 'x'"):
        load_price_file(path)
    path.write_text('[models."claude-fable-5-2"]\ninput = 8\noutput = 40\n')
    table = load_price_file(path)
    assert table.price_for("claude-fable-5-2").output == 40  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "invalid JSON at line 1"),
        ("[]", "must hold a table"),
        ('{"models": []}', "'models' must be a table"),
        ('{"models": {"opus 4": 5}}', "must be a table of prices"),
        ('{"models": {"opus 4": {"input": 1}}}', "missing 'output'"),
        ('{"models": {"opus 4": {"input": "1", "output": 2}}}', "must be a number, not str"),
        ('{"models": {"opus 4": {"input": true, "output": 2}}}', "must be a number, not bool"),
        ('{"models": {"opus 4": {"input": -1, "output": 2}}}', "finite number >= 0"),
        ('{"models": {"opus 4": {"input": 1e400, "output": 2}}}', "finite number >= 0"),
        ('{"models": {"opus 4": {"input": 1, "output": 2, "ouput": 3}}}', "unknown field 'ouput'"),
        ('{"models": {"opus 4": {"input": 1, "output": 2, "long_context": {"input": 1}}}}',
         "above_prompt_tokens must be a whole number"),
        ('{"models": {"": {"input": 1, "output": 2}}}', "must be a non-empty string"),
    ],
)  # fmt: skip
def test_a_bad_file_is_a_named_error(tmp_path, text, message):
    path = _write(tmp_path, "prices.json", text)
    with pytest.raises(PriceTableError, match=message) as raised:
        load_price_file(path)
    assert isinstance(raised.value, ClaudeSessionsError)
    assert raised.value.path == str(path)


def test_missing_or_unreadable_file(tmp_path, monkeypatch):
    monkeypatch.setenv(PRICES_ENV_VAR, str(tmp_path / "nope.json"))
    with pytest.raises(PriceTableError, match="no such file"):
        default_price_table()
    binary = tmp_path / "prices.json"
    binary.write_bytes(b"\xff\xfe{}")
    with pytest.raises(PriceTableError, match="not UTF-8"):
        load_price_file(binary)


# -------------------------------------------------------------------- command


def test_the_prices_command_names_each_source_beside_the_pricing_page(monkeypatch):
    monkeypatch.delenv(PRICES_ENV_VAR, raising=False)
    shown = CliRunner().invoke(cli, ["prices"])
    assert shown.exit_code == 0, shown.output
    lines = {line.split(":", 1)[0]: line for line in shown.output.splitlines() if ": " in line}
    assert "https://www.anthropic.com/news/claude-3-family" in lines["sonnet 3"]
    assert "https://www.anthropic.com/news/claude-2-1" in lines["claude 2.1"]
    assert "opus 4.1" not in lines  # from the pricing page, named once above


def test_prices_command(tmp_path, monkeypatch):
    monkeypatch.delenv(PRICES_ENV_VAR, raising=False)
    runner = CliRunner()
    shown = runner.invoke(cli, ["prices"])
    assert shown.exit_code == 0, shown.output
    assert "opus 4.1" in shown.output and "platform.claude.com" in shown.output
    assert "No user prices" in shown.output

    path = _write(
        tmp_path, "p.json", '{"models": {"claude-fable-5-3": {"input": 7, "output": 35}}}'
    )
    monkeypatch.setenv(PRICES_ENV_VAR, str(path))
    as_json = runner.invoke(cli, ["prices", "--json"])
    assert as_json.exit_code == 0, as_json.output
    report = json.loads(as_json.output)
    assert report["checked"] and report["source"].startswith("https://")
    origins = {row["model"]: row["origin"] for row in report["models"]}
    assert origins["fable 5.3"] == "user" and origins["opus 4"] == "built-in"

    path.write_text("{oops")
    failed = runner.invoke(cli, ["prices"])
    assert failed.exit_code == 1
    assert "Error: price file" in failed.output and "Traceback" not in failed.output
