"""A NUL in a tag or description, through the command line: one line, exit 2, nothing changed."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    "args",
    [["tag", "a\x00b"], ["tag", "+ok", "+a\x00b"], ["tag", "-a\x00b"], ["describe", "a\x00b"]],
    ids=["tag", "tags", "untag", "describe"],
)
def test_a_nul_is_refused_in_one_line_and_nothing_changes(ids, invoke, store, args):
    before = store.get_metadata(ids["root"]).to_dict()
    result = invoke(args[0], ids["root"][:8], *args[1:])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "NUL character" in lines[0] and "\x00" not in result.output
    assert store.get_metadata(ids["root"]).to_dict() == before
