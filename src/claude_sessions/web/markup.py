"""Stored text made safe HTML: Markdown, highlighted code, search snippets, long outputs.

Everything here returns :class:`markupsafe.Markup` built from escaped text.
Markdown goes through markdown-it with raw HTML off, so a message can only
produce the markup Markdown itself makes; links keep to http, https and
mailto, and a Markdown image becomes a link to it (showing it would fetch
from another server, which the page's Content-Security-Policy forbids anyway).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from markupsafe import Markup, escape
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from claude_sessions.views.conversation import INLINE_IMAGES
from claude_sessions.views.titles import snippet_spans

SAFE_SCHEMES = ("http://", "https://", "mailto:")
# Past this, a code block is shown plain: highlighting is linear but not cheap.
HIGHLIGHT_LIMIT = 100_000
_FORMATTER = HtmlFormatter(nowrap=True)


class _SafeMarkdown(MarkdownIt):
    def validateLink(self, url: str) -> bool:  # noqa: N802  (markdown-it's name)
        return url.strip().lower().startswith(SAFE_SCHEMES)


def _link_open(
    renderer: RendererHTML,
    tokens: list[Token],
    index: int,
    options: OptionsDict,
    env: EnvType,
) -> str:
    # Links leave the app without telling the other site where they came from.
    tokens[index].attrSet("rel", "noopener noreferrer nofollow")
    return renderer.renderToken(tokens, index, options, env)


def _image(
    renderer: RendererHTML,
    tokens: list[Token],
    index: int,
    options: OptionsDict,
    env: EnvType,
) -> str:
    token = tokens[index]
    source = str(token.attrGet("src") or "")
    label = renderer.renderInlineAsText(token.children or [], options, env) or source
    return str(
        Markup('<a href="{}" rel="noopener noreferrer nofollow">{}</a>').format(source, label)
    )


@lru_cache(maxsize=64)
def _lexer(language: str) -> Lexer | None:
    try:
        return get_lexer_by_name(language, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return None


def highlight_code(code: str, language: str) -> Markup:
    """``code`` as ``<pre class="highlight">`` with Pygments' classes (plain when the
    language is unknown or the code too long); Pygments escapes the text."""
    lexer = _lexer(language.strip().lower()) if language.strip() else None
    if lexer is None or len(code) > HIGHLIGHT_LIMIT:
        body = escape(code)
    else:
        body = Markup(highlight(code, lexer, _FORMATTER))
    return Markup('<pre class="highlight"><code>{}</code></pre>').format(body)


def _highlight_fence(code: str, language: str, attributes: str) -> str:
    return str(highlight_code(code, language))


def _markdown() -> MarkdownIt:
    md = _SafeMarkdown(
        "commonmark",
        {"html": False, "linkify": False, "typographer": False, "highlight": _highlight_fence},
    )
    md.enable(["table", "strikethrough"])
    md.add_render_rule("link_open", _link_open)
    md.add_render_rule("image", _image)
    return md


_MD = _markdown()


def markdown(text: str) -> Markup:
    """Markdown rendered without raw HTML, with highlighted code blocks."""
    return Markup(_MD.render(text))


def snippet(text: str) -> Markup:
    """A search snippet with its ``[match]`` markers as ``<mark>``, everything else escaped."""
    pieces = [
        Markup("<mark>{}</mark>").format(piece) if matched else escape(piece)
        for piece, matched in snippet_spans(text)
    ]
    return Markup("").join(pieces)


def split_lines(text: str, keep: int) -> tuple[str, str, int]:
    """``text`` cut after ``keep`` lines: ``(head, rest, number of lines in rest)``."""
    lines = text.split("\n")
    if len(lines) <= keep + 2:  # hiding one or two lines helps nobody
        return text, "", 0
    return "\n".join(lines[:keep]), "\n".join(lines[keep:]), len(lines) - keep


def json_text(value: Any) -> str:
    """A JSON value as indented text (strings as they are)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


_BASE64_RE = re.compile(r"^[A-Za-z0-9+/]*={0,2}$")
IMAGE_TYPES = INLINE_IMAGES


def data_url(media_type: str | None, data: str | None) -> str | None:
    """A ``data:`` URL for an image block, or ``None`` unless it is a known raster type
    with base64 data (an SVG could carry script; anything else is not an image)."""
    if media_type not in IMAGE_TYPES or not isinstance(data, str) or not data:
        return None
    compact = "".join(data.split())
    if len(compact) % 4 or not _BASE64_RE.match(compact):
        return None
    return f"data:{media_type};base64,{compact}"
