"""Step-line charts as inline SVG: no plotting library, nothing fetched by the browser.

Pure: series and a time window in, a ``ChartLayout`` (every coordinate worked out) out;
``templates/_chart.html`` draws it, escaping every label. ``step_chart`` does both.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from reconciler.api.page_view import StepSeries
from reconciler.api.templating import render_chart

__all__ = [
    "PALETTE",
    "Axis",
    "ChartBox",
    "ChartLayout",
    "ChartLine",
    "Tick",
    "layout_chart",
    "step_chart",
]

# Distinct on white and for the common kinds of colour blindness (Tableau 10, reordered).
PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#59a14f",
    "#e15759",
    "#76b7b2",
    "#b07aa1",
    "#edc948",
    "#9c755f",
    "#ff9da7",
    "#bab0ac",
)
OVERLAY_COLOUR = "#1f2937"


@dataclass(frozen=True, slots=True)
class ChartBox:
    width: int = 760
    height: int = 230
    left: int = 40  # room for the y labels
    right: int = 14
    top: int = 12
    bottom: int = 26  # room for the x labels

    @property
    def plot_width(self) -> float:
        return float(self.width - self.left - self.right)

    @property
    def plot_height(self) -> float:
        return float(self.height - self.top - self.bottom)


@dataclass(frozen=True, slots=True)
class ChartLine:
    label: str
    kind: str  # 'score' (a pool's line) or 'nodes' (the dashed overlay)
    colour: str
    d: str  # the SVG path


@dataclass(frozen=True, slots=True)
class Tick:
    at: str  # the grid line's coordinate, formatted ("70.0")
    text_at: str  # the label's
    text: str
    anchor: str = "end"


@dataclass(frozen=True, slots=True)
class Axis:
    """A y axis: its title, and a fixed top and tick step (a bounded value such as a placement
    score), or none (a count: fitted to the values, from 0)."""

    title: str = ""
    top: float | None = None
    step: float | None = None


@dataclass(frozen=True, slots=True)
class ChartLayout:
    box: ChartBox
    label: str
    y_ticks: tuple[Tick, ...]
    x_ticks: tuple[Tick, ...]
    lines: tuple[ChartLine, ...]
    y_title: str = ""
    right_ticks: tuple[Tick, ...] = ()  # the overlay's own axis, where it has one
    right_title: str = ""


def layout_chart(
    series: Sequence[StepSeries],
    *,
    start: datetime,
    end: datetime,
    overlay: StepSeries | None = None,
    label: str = "chart",
    box: ChartBox = ChartBox(),
    axis: Axis = Axis(),
    overlay_axis: Axis | None = None,
) -> ChartLayout | None:
    """One step line per series (kind ``score``) on the left ``axis``, ``overlay`` on top (kind
    ``nodes``), on its own right-hand ``overlay_axis`` where one is given, else on the left
    one; None when the window has nothing to draw."""
    drawn = [StepSeries(s.label, _in_window(s.points, start)) for s in series if s.points]
    on_top = StepSeries(overlay.label, _in_window(overlay.points, start)) if overlay else None
    if on_top is not None and not on_top.points:
        on_top = None
    if not drawn and on_top is None:
        return None
    shared = on_top if overlay_axis is None else None
    top, step = _scale(axis, [v for s in (*drawn, shared) if s is not None for _, v in s.points])
    span = max((end - start).total_seconds(), 1.0)

    def x(ts: datetime) -> float:
        clipped = min(max((ts - start).total_seconds(), 0.0), span)
        return box.left + clipped / span * box.plot_width

    def on(scale_top: float) -> Callable[[float], float]:
        return lambda value: box.top + box.plot_height * (1 - value / scale_top)

    y = on(top)
    # Pools often hold the same score for hours; a small vertical offset per line keeps
    # each visible instead of the last one drawn hiding the others.
    spread = min(2.0, 8.0 / max(len(drawn) - 1, 1))
    lines = [
        ChartLine(
            s.label,
            "score",
            PALETTE[i % len(PALETTE)],
            _path(s.points, x, y, (i - (len(drawn) - 1) / 2) * spread, end),
        )
        for i, s in enumerate(drawn)
    ]
    right_ticks: tuple[Tick, ...] = ()
    if on_top is not None:
        y_top = y
        if overlay_axis is not None:
            right_top, right_step = _scale(overlay_axis, [v for _, v in on_top.points])
            y_top = on(right_top)
            right_ticks = _y_ticks(right_top, right_step, y_top, anchor="start")
        lines.append(
            ChartLine(
                on_top.label, "nodes", OVERLAY_COLOUR, _path(on_top.points, x, y_top, 0.0, end)
            )
        )
    return ChartLayout(
        box,
        label,
        _y_ticks(top, step, y),
        _x_ticks(start, end, x),
        tuple(lines),
        y_title=axis.title,
        right_ticks=right_ticks,
        right_title=overlay_axis.title if overlay_axis is not None and right_ticks else "",
    )


def step_chart(
    series: Sequence[StepSeries],
    *,
    start: datetime,
    end: datetime,
    overlay: StepSeries | None = None,
    label: str = "chart",
    box: ChartBox = ChartBox(),
    axis: Axis = Axis(),
    overlay_axis: Axis | None = None,
) -> str:
    """The chart's markup: the SVG and an HTML legend under it."""
    chart = layout_chart(
        series,
        start=start,
        end=end,
        overlay=overlay,
        label=label,
        box=box,
        axis=axis,
        overlay_axis=overlay_axis,
    )
    return render_chart(chart)


def _path(
    points: tuple[tuple[datetime, float], ...],
    x: Callable[[datetime], float],
    y: Callable[[float], float],
    offset: float,
    end: datetime,
) -> str:
    moves = [f"M{x(points[0][0]):.1f},{y(points[0][1]) + offset:.1f}"]
    for ts, value in points[1:]:
        moves.append(f"H{x(ts):.1f}V{y(value) + offset:.1f}")
    moves.append(f"H{x(end):.1f}")  # the last value holds until now
    return "".join(moves)


def _in_window(
    points: tuple[tuple[datetime, float], ...], start: datetime
) -> tuple[tuple[datetime, float], ...]:
    """Oldest first; of the points before ``start`` only the last, the value in force as the
    window opens."""
    ordered = sorted(points)
    opening = max((i for i, (ts, _) in enumerate(ordered) if ts <= start), default=0)
    return tuple(ordered[opening:])


def _y_ticks(
    top: float, step: float, y: Callable[[float], float], *, anchor: str = "end"
) -> tuple[Tick, ...]:
    out = []
    tick = 0.0
    while tick <= top + 1e-9:
        out.append(Tick(f"{y(tick):.1f}", f"{y(tick) + 4:.1f}", f"{tick:g}", anchor))
        tick += step
    return tuple(out)


def _x_ticks(start: datetime, end: datetime, x: Callable[[datetime], float]) -> tuple[Tick, ...]:
    fmt = "%H:%M" if (end - start).total_seconds() <= 36 * 3600 else "%m-%d"
    anchors = ("start", "middle", "middle", "middle", "end")
    out = []
    for i, anchor in enumerate(anchors):
        ts = start + (end - start) * (i / 4)
        out.append(Tick(f"{x(ts):.1f}", f"{x(ts):.1f}", ts.strftime(fmt), anchor))
    return tuple(out)


def _nice_step(value: float) -> float:
    """The smallest of 1, 2, 5 x 10^k at or above ``value``, at least 1 (counts of nodes)."""
    if value <= 1:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    return float(next(f * magnitude for f in (1, 2, 5, 10) if f * magnitude >= value))


def _scale(axis: Axis, values: Sequence[float]) -> tuple[float, float]:
    """The axis's top and tick step: its own where it fixes them, else fitted to ``values``."""
    if axis.top is not None and axis.step is not None:
        return axis.top, axis.step
    return _axis(max(values, default=1.0))


def _axis(highest: float) -> tuple[float, float]:
    """The y axis's top and tick step: about four ticks, with headroom over the highest value
    so a line at the maximum does not run along the frame."""
    step = _nice_step(highest / 4)
    return step * math.ceil(highest * 1.1 / step), step
