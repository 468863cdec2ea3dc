"""Stacked bar charts as geometry for a server-drawn SVG (see ``templates/chart.html``).

Only numbers come out of here: rectangles, ticks and a legend. The template
draws them with SVG attributes and CSS classes (``s0`` to ``s7`` and
``other``), never inline styles, and gives every bar a ``<title>`` and the
chart a table of the same figures for readers who cannot see it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

MAX_SERIES = 8  # more colours stop telling series apart: the rest is "other"
OTHER = "other"


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class Chart:
    title: str
    width: int
    height: int
    plot_left: float
    plot_bottom: float
    plot_right: float
    bars: list[Bar]
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    legend: list[tuple[str, str]]  # (css class, name)
    periods: list[str]
    rows: list[tuple[str, list[str], str]]  # the table fallback: name, per period, total

    @property
    def empty(self) -> bool:
        return not self.bars


TICKS = 4


def nice_step(value: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten at or above ``value``."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * power >= value * (1 - 1e-9):
            return step * power
    return 10 * power


def all_periods(periods: Sequence[str], period: str) -> list[str]:
    """``periods`` (sorted keys the store gave) with the empty ones between them filled in,
    so the time axis runs evenly: days ``2026-03-01``, weeks (their Monday), months ``2026-03``."""
    if len(periods) < 2:
        return list(periods)
    if period == "month":
        first, last = (tuple(int(x) for x in key.split("-")) for key in (periods[0], periods[-1]))
        keys = []
        year, month = first
        while (year, month) <= last:
            keys.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return keys
    step = timedelta(days=7 if period == "week" else 1)
    day, end = date.fromisoformat(periods[0]), date.fromisoformat(periods[-1])
    keys = []
    while day <= end:
        keys.append(day.isoformat())
        day += step
    return keys


def spread(
    periods: Sequence[str], values: Mapping[str, Sequence[float]], period: str
) -> tuple[list[str], dict[str, list[float]]]:
    """The series over :func:`all_periods`, zero where a period had nothing."""
    keys = all_periods(periods, period)
    where = {key: index for index, key in enumerate(periods)}
    return keys, {
        name: [series[where[key]] if key in where else 0.0 for key in keys]
        for name, series in values.items()
    }


def palette(*charts: Mapping[str, Sequence[float]], limit: int = MAX_SERIES) -> dict[str, str]:
    """One colour class per series name for every chart of a page, so a model, project
    or tag looks the same in each: names ranked by their total in the first chart, then
    the next (a model without a price still has tokens), the ``limit - 1`` first get a
    colour each (all of them when they fit in ``limit``), the rest are "other"."""
    names = {name for chart in charts for name in chart}

    def rank(name: str) -> tuple[float | str, ...]:
        return (*(-sum(chart.get(name, ())) for chart in charts), name)

    ordered = sorted(names, key=rank)
    kept = ordered if len(ordered) <= limit else ordered[: limit - 1]
    return {name: f"s{index}" for index, name in enumerate(kept)}


def fold_series(
    series: Mapping[str, Sequence[float]], colours: Mapping[str, str]
) -> list[tuple[str, list[float]]]:
    """The series that have a colour, in the colours' order, and the rest summed as
    "other" (when there is any)."""
    kept = [(name, list(series[name])) for name in colours if name in series]
    others = [values for name, values in series.items() if name not in colours]
    if not others:
        return kept
    return [*kept, (OTHER, [sum(column) for column in zip(*others, strict=True)])]


def stacked_bars(
    title: str,
    periods: Sequence[str],
    series: Mapping[str, Sequence[float]],
    fmt: Callable[[float], str],
    *,
    colours: Mapping[str, str] | None = None,
    counts: bool = False,
    width: int = 960,
    height: int = 280,
) -> Chart:
    """Bars per period, each stacked by series, scaled to a rounded maximum; ``colours``
    (from :func:`palette`, over every chart of the page) name each series' colour;
    ``counts``: the values are whole numbers, so are the ticks."""
    left, right, top, bottom = 64.0, 8.0, 12.0, 28.0
    colours = palette(series) if colours is None else colours
    folded = fold_series(series, colours)
    css = {name: colours.get(name, OTHER) for name, _ in folded}
    totals = [sum(values[i] for _, values in folded) for i in range(len(periods))]
    step = nice_step(max(totals, default=0.0) / TICKS)
    step = max(step, 1.0) if counts else step
    ceiling = step * TICKS
    plot_width = width - left - right
    plot_height = height - top - bottom
    slot = plot_width / max(len(periods), 1)
    gap = min(slot * 0.2, 6.0) if slot > 3 else 0.0
    bars: list[Bar] = []
    for index, period in enumerate(periods):
        base = 0.0
        for name, values in folded:
            value = values[index]
            if value <= 0:
                continue
            y_top = top + plot_height * (1 - (base + value) / ceiling)
            y_base = top + plot_height * (1 - base / ceiling)
            bars.append(
                Bar(
                    x=round(left + index * slot + gap / 2, 2),
                    y=round(y_top, 2),
                    width=round(max(slot - gap, 0.5), 2),
                    height=round(max(y_base - y_top, 0.5), 2),
                    css=css[name],
                    title=f"{period} · {name}: {fmt(value)}",
                )
            )
            base += value
    y_ticks = [
        Tick(round(top + plot_height * (1 - n / TICKS), 2), fmt(step * n)) for n in range(TICKS + 1)
    ]
    label_every = max(1, math.ceil(len(periods) / max(int(plot_width // 90), 1)))
    x_ticks = [
        Tick(round(left + (index + 0.5) * slot, 2), period)
        for index, period in enumerate(periods)
        if index % label_every == 0
    ]
    rows = [
        (name, [fmt(v) if v else "" for v in values], fmt(sum(values))) for name, values in folded
    ]
    return Chart(
        title=title,
        width=width,
        height=height,
        plot_left=left,
        plot_bottom=top + plot_height,
        plot_right=width - right,
        bars=bars,
        x_ticks=x_ticks,
        y_ticks=y_ticks,
        legend=[(css[name], name) for name, _ in folded],
        periods=list(periods),
        rows=rows,
    )


HEAT_LEVELS = 4  # shades past "none": h1 (fewest) to h4 (most)


@dataclass(frozen=True)
class Heatmap:
    """A grid of cells shaded by count (classes ``h0`` to ``h4``), rows labelled."""

    title: str
    width: int
    height: int
    cells: list[Bar]
    row_labels: list[Tick]
    x_ticks: list[Tick]
    label_right: float
    plot_bottom: float
    columns: list[str]
    rows: list[tuple[str, list[str], str]]  # the table fallback: row, per column, total

    @property
    def empty(self) -> bool:
        return not any(cell.css != "h0" for cell in self.cells)


def shade(count: int, most: int) -> str:
    """The class of a cell: ``h0`` for none, then up to :data:`HEAT_LEVELS` by share of
    the busiest cell."""
    if count <= 0 or most <= 0:
        return "h0"
    return f"h{max(1, math.ceil(HEAT_LEVELS * count / most))}"


def heatmap(
    title: str,
    row_names: Sequence[str],
    columns: Sequence[str],
    counts: Sequence[Sequence[int]],
    what: str,
    *,
    width: int = 960,
) -> Heatmap:
    """``counts[row][column]`` as a grid of shaded cells, each titled with its count."""
    left, right, top, bottom, row_height = 48.0, 8.0, 4.0, 22.0, 24.0
    slot = (width - left - right) / max(len(columns), 1)
    most = max((max(row, default=0) for row in counts), default=0)
    cells = [
        Bar(
            x=round(left + column * slot + 1, 2),
            y=round(top + row * row_height + 1, 2),
            width=round(slot - 2, 2),
            height=row_height - 2,
            css=shade(count, most),
            title=f"{row_names[row]} {columns[column]}: {count:,} {what}",
        )
        for row, values in enumerate(counts)
        for column, count in enumerate(values)
    ]
    plot_bottom = top + row_height * len(row_names)
    return Heatmap(
        title=title,
        width=width,
        height=round(plot_bottom + bottom),
        cells=cells,
        row_labels=[
            Tick(round(top + (row + 0.5) * row_height + 4, 2), name)
            for row, name in enumerate(row_names)
        ],
        x_ticks=[
            Tick(round(left + (column + 0.5) * slot, 2), name)
            for column, name in enumerate(columns)
            if column % 3 == 0
        ],
        label_right=left - 8,
        plot_bottom=plot_bottom,
        columns=list(columns),
        rows=[
            (name, [f"{v:,}" if v else "" for v in values], f"{sum(values):,}")
            for name, values in zip(row_names, counts, strict=True)
        ],
    )
