"""The usage page's charts: the bars and table cells of a year by day are written in
one pass (not looked up element by element by the template), in the same markup the
template wrote element by element, every name escaped."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import jinja2
import pytest

from claude_sessions.web import charts
from claude_sessions.web.templating import page_environment

# chart.html's figures as the template wrote them, one element at a time.
ELEMENT_BY_ELEMENT = """\
  <svg>
    {% for bar in chart.bars %}
    <rect class="bar {{ bar.css }}" x="{{ bar.x }}" y="{{ bar.y }}" width="{{ bar.width }}" \
height="{{ bar.height }}"><title>{{ bar.title }}</title></rect>
    {% endfor %}
  </svg>
<tr>{% for period in chart.periods %}<th scope="col" class="num">{{ period }}</th>{% endfor %}\
<th scope="col" class="num">Total</th></tr>
{% for name, values, total in chart.rows %}
<tr>{% for value in values %}<td class="num">{{ value }}</td>{% endfor %}\
<td class="num">{{ total }}</td></tr>
{% endfor %}
"""
NAMES = ("claude-<b>&\"'", "/work/a & b", "plain")


def _year_chart(names: tuple[str, ...] = NAMES) -> charts.Chart:
    start = date(2026, 1, 1)
    periods = [(start + timedelta(days=n)).isoformat() for n in range(365)]
    series = {
        name: [float((n * 7 + 3 * k) % 11) for n in range(365)] for k, name in enumerate(names)
    }
    return charts.stacked_bars("Cost <per day>", periods, series, lambda value: f"${value:,.2f}")


def _pieces(html: str) -> list[str]:
    """The rects, column headings and number cells of a rendering, in order."""
    found = []
    for line in html.split("<"):
        bar = line.startswith('rect class="bar') and ' x="' in line
        if bar or line.startswith(('th scope="col" class="num', 'td class="num')):
            found.append(line)
    return found


def test_the_bars_and_cells_are_the_markup_the_template_wrote() -> None:
    chart = _year_chart()
    expected = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    wanted = expected.from_string(ELEMENT_BY_ELEMENT).render(chart=chart)
    page = (
        page_environment().get_template("chart.html").render(chart=chart, view={"stack": "model"})
    )
    assert len(_pieces(wanted)) > 2000
    assert _pieces(page) == _pieces(wanted)
    assert "claude-&lt;b&gt;&amp;&#34;&#39;" in page and "claude-<b>" not in page
    assert "\n    <rect " in page  # one a line, indented as before


class _Counting(jinja2.Environment):
    looked_up = 0

    def getattr(self, obj: Any, attribute: str) -> Any:
        _Counting.looked_up += 1
        return super().getattr(obj, attribute)


@pytest.mark.parametrize("names", [NAMES[:1], NAMES])
def test_a_year_of_bars_costs_the_template_no_look_up_a_bar(
    names: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    chart = _year_chart(names)
    environment = page_environment()
    counting = _Counting(
        loader=environment.loader, autoescape=True, trim_blocks=True, lstrip_blocks=True
    )
    counting.filters.update(environment.filters)
    _Counting.looked_up = 0
    counting.get_template("chart.html").render(chart=chart, view={"stack": "model"})
    # the same few look-ups (title, legend, ticks, rows) however many bars there are
    assert len(chart.bars) >= 365 * len(names) * 0.8
    assert _Counting.looked_up < 200, _Counting.looked_up
