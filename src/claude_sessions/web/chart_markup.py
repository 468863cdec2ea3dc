"""The pieces of a chart that repeat by the thousand (a year by day and model: some
3,000 bars and as many table cells a chart), written in one pass here instead of
element by element by the template, whose attribute look-ups and escapes per element
took most of the usage page's time. The markup is the same the template wrote:
every text escaped, numbers as Python writes them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from markupsafe import Markup, escape

from claude_sessions.web.charts import Bar


def bar_rects(bars: Sequence[Bar]) -> Markup:
    """Each bar's ``<rect>`` with its ``<title>``, one a line, indented as in the SVG."""
    return Markup(
        "\n    ".join(
            f'<rect class="bar {escape(bar.css)}" x="{bar.x}" y="{bar.y}" width="{bar.width}" '
            f'height="{bar.height}"><title>{escape(bar.title)}</title></rect>'
            for bar in bars
        )
    )


def number_cells(values: Iterable[object]) -> Markup:
    """A table row's figures, each in its ``<td class="num">``."""
    return Markup("".join(f'<td class="num">{escape(value)}</td>' for value in values))


def column_heads(names: Iterable[object]) -> Markup:
    """A table's column headings, each in its ``<th scope="col" class="num">``."""
    return Markup("".join(f'<th scope="col" class="num">{escape(name)}</th>' for name in names))
