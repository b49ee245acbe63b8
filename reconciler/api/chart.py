"""Step-line charts as inline SVG: no plotting library, nothing fetched by the browser.

Pure: series and a time window in, markup out. Every label is escaped here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape

from reconciler.api.page_view import StepSeries

__all__ = ["PALETTE", "ChartBox", "step_chart"]

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


def step_chart(
    series: Sequence[StepSeries],
    *,
    start: datetime,
    end: datetime,
    overlay: StepSeries | None = None,
    label: str = "chart",
    box: ChartBox = ChartBox(),
) -> str:
    """One step line per series (class ``capacity``), ``overlay`` dashed on top (class
    ``nodes``), a shared y axis from 0, and an HTML legend under the chart."""
    drawn = [StepSeries(s.label, _in_window(s.points, start)) for s in series if s.points]
    on_top = StepSeries(overlay.label, _in_window(overlay.points, start)) if overlay else None
    if on_top is not None and not on_top.points:
        on_top = None
    if not drawn and on_top is None:
        return '<p class="empty">No observations in this window.</p>'
    values = [v for s in (*drawn, on_top) if s is not None for _, v in s.points]
    top, step = _axis(max(values, default=1.0))
    span = max((end - start).total_seconds(), 1.0)

    def x(ts: datetime) -> float:
        clipped = min(max((ts - start).total_seconds(), 0.0), span)
        return box.left + clipped / span * box.plot_width

    def y(value: float) -> float:
        return box.top + box.plot_height * (1 - value / top)

    # Pools often hold the same capacity for hours; a small vertical offset per line keeps
    # each visible instead of the last one drawn hiding the others.
    spread = min(2.0, 8.0 / max(len(drawn) - 1, 1))
    paths = []
    for i, s in enumerate(drawn):
        offset = (i - (len(drawn) - 1) / 2) * spread
        colour = PALETTE[i % len(PALETTE)]
        paths.append(_path(s, "capacity", colour, x, y, offset, end))
    if on_top is not None:
        paths.append(_path(on_top, "nodes", OVERLAY_COLOUR, x, y, 0.0, end))

    svg = (
        f'<svg class="chart" viewBox="0 0 {box.width} {box.height}" role="img" '
        f'aria-label="{escape(label)}" preserveAspectRatio="xMidYMid meet">'
        + _y_axis(top, step, box, y)
        + _x_axis(start, end, box, x)
        + "".join(paths)
        + "</svg>"
    )
    legend = "".join(
        f'<li><span class="swatch" style="background:{PALETTE[i % len(PALETTE)]}"></span>'
        f"{escape(s.label)}</li>"
        for i, s in enumerate(drawn)
    )
    if on_top is not None:
        legend += f'<li><span class="swatch dashed"></span>{escape(on_top.label)}</li>'
    return f'<figure class="chart-box">{svg}<ul class="legend">{legend}</ul></figure>'


def _path(
    s: StepSeries,
    kind: str,
    colour: str,
    x: Callable[[datetime], float],
    y: Callable[[float], float],
    offset: float,
    end: datetime,
) -> str:
    points = s.points
    moves = [f"M{x(points[0][0]):.1f},{y(points[0][1]) + offset:.1f}"]
    for ts, value in points[1:]:
        moves.append(f"H{x(ts):.1f}V{y(value) + offset:.1f}")
    moves.append(f"H{x(end):.1f}")  # the last value holds until now
    return (
        f'<path class="series {kind}" data-series="{escape(s.label)}" stroke="{colour}" '
        f'd="{"".join(moves)}"><title>{escape(s.label)}</title></path>'
    )


def _in_window(
    points: tuple[tuple[datetime, float], ...], start: datetime
) -> tuple[tuple[datetime, float], ...]:
    """Oldest first; of the points before ``start`` only the last, the value in force as the
    window opens."""
    ordered = sorted(points)
    opening = max((i for i, (ts, _) in enumerate(ordered) if ts <= start), default=0)
    return tuple(ordered[opening:])


def _y_axis(top: float, step: float, box: ChartBox, y: Callable[[float], float]) -> str:
    out = []
    tick = 0.0
    while tick <= top + 1e-9:
        out.append(
            f'<line class="grid" x1="{box.left}" x2="{box.width - box.right}" '
            f'y1="{y(tick):.1f}" y2="{y(tick):.1f}"/>'
            f'<text class="tick" x="{box.left - 6}" y="{y(tick) + 4:.1f}" '
            f'text-anchor="end">{tick:g}</text>'
        )
        tick += step
    return "".join(out)


def _x_axis(start: datetime, end: datetime, box: ChartBox, x: Callable[[datetime], float]) -> str:
    fmt = "%H:%M" if (end - start).total_seconds() <= 36 * 3600 else "%m-%d"
    out = []
    for i in range(5):
        ts = start + (end - start) * (i / 4)
        anchor = ("start", "middle", "middle", "middle", "end")[i]
        out.append(
            f'<text class="tick" x="{x(ts):.1f}" y="{box.height - 8}" '
            f'text-anchor="{anchor}">{ts.strftime(fmt)}</text>'
        )
    return "".join(out)


def _nice_step(value: float) -> float:
    """The smallest of 1, 2, 5 x 10^k at or above ``value``, at least 1 (counts of nodes)."""
    if value <= 1:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    return float(next(f * magnitude for f in (1, 2, 5, 10) if f * magnitude >= value))


def _axis(highest: float) -> tuple[float, float]:
    """The y axis's top and tick step: about four ticks, with headroom over the highest value
    so a line at the maximum does not run along the frame."""
    step = _nice_step(highest / 4)
    return step * math.ceil(highest * 1.1 / step), step
