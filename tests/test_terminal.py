"""The one sanitiser every terminal rendering uses, and its JSON counterpart."""

from __future__ import annotations

import json

import pytest

from claude_sessions.terminal import for_terminal, json_for_terminal

UNSAFE = (
    [chr(code) for code in range(0x20) if chr(code) not in "\n\t"]
    + ["\x7f"]
    + [chr(code) for code in range(0x80, 0xA0)]
    + [chr(code) for code in range(0x202A, 0x202F)]
    + [chr(code) for code in range(0x2066, 0x206A)]
)


@pytest.mark.parametrize("char", UNSAFE, ids=lambda char: f"U+{ord(char):04X}")
def test_every_control_and_bidi_character_becomes_a_visible_escape(char):
    shown = for_terminal(f"a{char}b")
    escape = f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"
    assert shown == f"a{escape}b"
    assert shown.isprintable()


def test_text_layout_and_other_characters_stay():
    text = "line one\n\tindented [bold]x[/bold] café 日本語 \u200d emoji 🙂"
    assert for_terminal(text) == text


def test_crlf_line_ends_become_newlines_and_a_lone_cr_is_shown():
    assert for_terminal("one\r\ntwo\rthree") == "one\ntwo\\x0dthree"


@pytest.mark.parametrize("char", UNSAFE, ids=lambda char: f"U+{ord(char):04X}")
def test_json_escapes_every_such_character_and_keeps_the_data(char):
    value = {"text": f"a{char}b", "naïve": "日本"}
    printed = json_for_terminal(json.dumps(value, ensure_ascii=False))
    assert char not in printed
    assert "日本" in printed
    assert json.loads(printed) == value
