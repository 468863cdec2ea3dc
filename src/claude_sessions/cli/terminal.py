r"""Stored text, made safe to print on a terminal.

Session text comes from models, tools and files, so it can hold control
sequences a terminal obeys: ``ESC ] 0 ; title BEL`` retitles the window,
``ESC [ 2 J`` clears the screen, U+009B does the same as ``ESC [`` on terminals
that read 8-bit controls, and bidi overrides (U+202E) reorder what is shown.

Every terminal rendering of the command line passes such text through
:func:`for_terminal`, which writes each of these characters as a hex escape
(``\xNN`` below U+0100, else ``\uNNNN``): ESC shows as ``\x1b``, CR as ``\x0d``,
U+009B as ``\x9b``, U+202E as ``\u202e``. That covers the C0 controls except
newline and tab, DEL, the C1 controls (U+0080-U+009F) and the bidi embeddings,
overrides and isolates (U+202A-U+202E, U+2066-U+2069). A CRLF line end becomes
a plain newline. Lone surrogates (U+D800-U+DFFF) are shown too: no terminal can be
sent them, and a file name that is not UTF-8 holds them, one for each byte Python
could not decode (byte 0xFF reads as U+DCFF, shown ``\udcff``).

JSON printed on a terminal goes through :func:`json_for_terminal` instead:
JSON already escapes C0 controls, and the rest get ``\uXXXX`` escapes too, so
the output parses back to exactly the stored text (:func:`holds_surrogates`
says when it holds a name that is not UTF-8). Files, and Markdown or HTML sent
to a pipe, are written as stored.
"""

from __future__ import annotations

import re

_CRLF_OR_UNSAFE = re.compile(
    r"\r\n|[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
# What json.dumps(ensure_ascii=False) leaves raw of the characters above. They
# can only occur inside JSON strings, where a \uXXXX escape means the same.
_RAW_IN_JSON = re.compile(r"[\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def for_terminal(text: str) -> str:
    """``text`` with every control and bidi character shown as a visible escape."""
    return _CRLF_OR_UNSAFE.sub(_visible, text)


def json_for_terminal(json_text: str) -> str:
    """JSON text whose strings escape every control and bidi character (same data)."""
    return _RAW_IN_JSON.sub(lambda match: f"\\u{ord(match.group()):04x}", json_text)


def holds_surrogates(text: str) -> bool:
    """Whether ``text`` holds a lone surrogate: a name that is not UTF-8, as Python reads it."""
    return _SURROGATE.search(text) is not None


def _visible(match: re.Match[str]) -> str:
    found = match.group()
    if found == "\r\n":
        return "\n"
    code = ord(found)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
