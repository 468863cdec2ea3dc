"""The one sanitiser every terminal rendering uses, and its JSON counterpart."""

from __future__ import annotations

import json
import os

import pytest

from claude_sessions.cli.terminal import for_terminal, holds_surrogates, json_for_terminal

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


# A file name that is not UTF-8, as Python reads it: each undecodable byte is a lone surrogate.
NOT_UTF8_NAME = os.fsdecode(b"bad\xff\x80name")


def test_a_name_that_is_not_utf8_shows_as_escapes_a_terminal_can_take():
    shown = for_terminal(f"{NOT_UTF8_NAME} and \ud800")
    assert shown.encode("utf-8")  # a lone surrogate could not be encoded at all
    assert shown == f"{ascii(NOT_UTF8_NAME)[1:-1]} and \\ud800"


def test_json_holds_a_name_that_is_not_utf8_as_escapes_and_keeps_it():
    value = {"path": NOT_UTF8_NAME, "text": "lone \ud800"}
    printed = json_for_terminal(json.dumps(value, ensure_ascii=False))
    assert json.loads(printed.encode("utf-8").decode("utf-8")) == value
    assert os.fsencode(json.loads(printed)["path"]) == b"bad\xff\x80name"


def test_holds_surrogates_finds_names_that_are_not_utf8():
    assert holds_surrogates(f"x {NOT_UTF8_NAME}")
    assert not holds_surrogates("café 日本語 🙂 \x1b")
