"""Walk-forward evaluation: consecutive windows, pooled figures, a bootstrap over days.

Pure: the windows of a span, the figures pooled over every window's ticks, each day's served
ticks from a result's timeline, and a paired bootstrap over days for the difference in
availability between two policies. The backtest runs the windows (``walk_forward_run``).

Pooling is over ticks, not an average of windows: pooled availability is served ticks over
scored ticks, and the pooled cost ratio weighs each window by its ticks (each window's
on-demand baseline is K nodes on demand for its ticks, so that is the ratio of the sums).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from reconciler.replay.engine import ReplayResult
from reconciler.replay.frontier import Point, peer_frontier

__all__ = [
    "DayWindow",
    "DifferenceInterval",
    "PooledFigures",
    "bootstrap_difference",
    "daily_served",
    "pooled",
    "pooled_margins",
    "split_days",
]


@dataclass(frozen=True, slots=True)
class DayWindow:
    """One walk-forward window: scored days ``start_day .. end_day`` (end excluded)."""

    index: int
    start_day: float
    end_day: float


def split_days(first_day: float, last_day: float, days: float) -> tuple[DayWindow, ...]:
    """Consecutive windows of ``days`` from ``first_day``; the last one ends at ``last_day``."""
    if days <= 0:
        raise ValueError(f"a walk-forward window must be longer than 0 days, not {days}")
    if last_day <= first_day:
        raise ValueError(f"the span {first_day}..{last_day} days is empty; end after the start")
    count = math.ceil((last_day - first_day) / days - 1e-9)
    return tuple(
        DayWindow(i, first_day + i * days, min(first_day + (i + 1) * days, last_day))
        for i in range(count)
    )


@dataclass(frozen=True, slots=True)
class PooledFigures:
    """One policy over every window: served ticks of scored ticks, and the cost ratio."""

    policy: str
    ticks: int
    served: int
    cost: float
    cost_ratio: float

    @property
    def availability(self) -> float:
        return self.served / self.ticks if self.ticks else 0.0


def pooled(results: Iterable[ReplayResult], policy: str) -> PooledFigures:
    """``policy``'s figures over all ``results`` of that name (one per window)."""
    mine = [r for r in results if r.policy == policy]
    if not mine:
        raise ValueError(f"no window ran {policy!r}")
    ticks = sum(r.ticks for r in mine)
    # availability x ticks is the window's served count exactly (the engine divides it).
    served = sum(round(r.availability * r.ticks) for r in mine)
    return PooledFigures(
        policy=policy,
        ticks=ticks,
        served=served,
        cost=sum(r.cost for r in mine),
        cost_ratio=sum(r.cost_ratio * r.ticks for r in mine) / ticks,
    )


def pooled_margins(
    figures: Sequence[PooledFigures], peers: Iterable[str], spotfleet: Iterable[str]
) -> dict[str, float]:
    """``{"policy": margin}`` of the pooled spotfleet policies over the pooled peers' frontier
    (empty when no peer ran)."""
    by_name = {f.policy: f for f in figures}
    peer_points = [
        Point(name, by_name[name].cost_ratio, by_name[name].availability)
        for name in peers
        if name in by_name
    ]
    if not peer_points:
        return {}
    frontier = peer_frontier(peer_points)
    return {
        name: frontier.margin(Point(name, by_name[name].cost_ratio, by_name[name].availability))
        for name in spotfleet
        if name in by_name
    }


def daily_served(
    results: Iterable[ReplayResult], k: int, gap_seconds: int
) -> dict[int, tuple[int, int]]:
    """``{day: (served ticks, scored ticks)}`` from the results' timelines (a tick is served
    when at least K nodes are ready). Day d holds the ticks from ``floor(d x 86400 / gap)``
    (REPLAY.md's first tick of a window day) up to day d + 1's first tick, so a window of
    whole days holds exactly its days."""
    days: dict[int, tuple[int, int]] = {}
    for result in results:
        if len(result.timeline) != result.ticks:
            raise ValueError(
                f"{result.policy}: the timeline holds {len(result.timeline)} of "
                f"{result.ticks} ticks; run the replay with its per-tick record"
            )
        for record in result.timeline:
            # The largest d with floor(d x 86400 / gap) <= tick.
            day = ((record.tick + 1) * gap_seconds - 1) // 86400
            served, ticks = days.get(day, (0, 0))
            days[day] = (served + (record.ready >= k), ticks + 1)
    return days


@dataclass(frozen=True, slots=True)
class DifferenceInterval:
    """Availability of ``a`` minus ``b`` over all days, and its bootstrap interval over days."""

    a: str
    b: str
    difference: float
    low: float
    high: float
    level: float
    days: int
    resamples: int
    seed: int


def bootstrap_difference(
    a: dict[int, tuple[int, int]],
    b: dict[int, tuple[int, int]],
    *,
    names: tuple[str, str] = ("planner", "planner_no_model"),
    resamples: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> DifferenceInterval:
    """A paired percentile bootstrap: draw days with replacement (the same days for both
    policies, so the day's market is shared) and take the pooled availability difference.

    Days, not ticks, are resampled: neighbouring ticks of one day share an outage, so ticks
    are far from independent and would give an interval much too narrow."""
    if sorted(a) != sorted(b):
        raise ValueError(
            f"{names[0]} and {names[1]} were scored on different days "
            f"({sorted(a)} against {sorted(b)}); run both over the same windows"
        )
    days = sorted(a)
    if not days:
        raise ValueError("no scored day to resample")
    served_a = np.array([a[d][0] for d in days], dtype=np.float64)
    served_b = np.array([b[d][0] for d in days], dtype=np.float64)
    ticks = np.array([a[d][1] for d in days], dtype=np.float64)
    if np.any(ticks != np.array([b[d][1] for d in days], dtype=np.float64)):
        raise ValueError(f"{names[0]} and {names[1]} scored different ticks on some day")
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(days), size=(resamples, len(days)))
    diffs = (served_a[draws].sum(axis=1) - served_b[draws].sum(axis=1)) / ticks[draws].sum(axis=1)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(diffs, [tail, 1.0 - tail])
    return DifferenceInterval(
        a=names[0],
        b=names[1],
        difference=float((served_a.sum() - served_b.sum()) / ticks.sum()),
        low=float(low),
        high=float(high),
        level=level,
        days=len(days),
        resamples=resamples,
        seed=seed,
    )
