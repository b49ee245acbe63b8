"""The walk-forward's pure parts on small hand-made results: windows, pooling, the bootstrap."""

from __future__ import annotations

import pytest

from reconciler.replay.engine import ReplayResult, TickRecord
from reconciler.replay.walk_forward import (
    DayWindow,
    bootstrap_difference,
    daily_served,
    pooled,
    pooled_margins,
    split_days,
)

GAP = 21600  # four ticks a day


def result(policy: str, ready: list[int], *, first_tick: int = 0, k: int = 2, cost_ratio=0.3):
    served = sum(r >= k for r in ready)
    return ReplayResult(
        policy=policy,
        ticks=len(ready),
        cost=cost_ratio * len(ready),
        cost_ratio=cost_ratio,
        availability=served / len(ready),
        mean_ready_fraction=0.0,
        preemptions=0,
        launch_failures=0,
        launches=0,
        on_demand_node_hours=0.0,
        spot_node_hours=0.0,
        timeline=tuple(TickRecord(first_tick + i, r, r, 0, 0.0, 0.0) for i, r in enumerate(ready)),
    )


def test_split_days_gives_consecutive_windows_and_a_short_last_one():
    assert split_days(10, 15, 2) == (
        DayWindow(0, 10, 12),
        DayWindow(1, 12, 14),
        DayWindow(2, 14, 15),
    )
    assert split_days(10, 14, 2) == (DayWindow(0, 10, 12), DayWindow(1, 12, 14))


def test_split_days_refuses_an_empty_span_or_window():
    with pytest.raises(ValueError, match="empty"):
        split_days(10, 10, 2)
    with pytest.raises(ValueError, match="longer than 0"):
        split_days(10, 14, 0)


def test_pooled_availability_is_served_over_ticks_not_a_mean_of_windows():
    short = result("planner", [2, 0])  # 1 of 2 served
    long = result("planner", [2, 2, 2, 2, 2, 2], cost_ratio=0.5)  # 6 of 6
    other = result("planner_no_model", [0, 0])
    figures = pooled([short, other, long], "planner")
    assert (figures.served, figures.ticks) == (7, 8)
    assert figures.availability == pytest.approx(7 / 8)  # a mean of windows says 0.75
    assert figures.cost_ratio == pytest.approx((0.3 * 2 + 0.5 * 6) / 8)


def test_pooled_margins_put_the_pooled_planner_against_the_pooled_peers():
    runs = [
        result("planner", [2, 2, 2, 2], cost_ratio=0.3),
        result("karpenter", [2, 2, 0, 0], cost_ratio=0.3),
        result("spothedge+1", [2, 2, 2, 0], cost_ratio=0.4),
    ]
    figures = [pooled(runs, n) for n in ("planner", "karpenter", "spothedge+1")]
    margins = pooled_margins(figures, ["karpenter", "spothedge+1"], ["planner"])
    assert margins == {"planner": pytest.approx(1.0 - 0.5)}
    assert pooled_margins(figures, ["asg_capacity_optimized"], ["planner"]) == {}


def test_daily_served_counts_each_day_of_the_trace_from_the_timeline():
    # Ticks 4..9: day 1 is ticks 4-7, day 2 ticks 8-9.
    days = daily_served([result("planner", [2, 1, 2, 2, 0, 3], first_tick=4)], 2, GAP)
    assert days == {1: (3, 4), 2: (1, 2)}


def test_daily_served_refuses_a_result_without_its_timeline():
    bare = ReplayResult("planner", 4, 1.0, 0.3, 1.0, 1.0, 0, 0, 0, 0.0, 0.0)
    with pytest.raises(ValueError, match="timeline"):
        daily_served([bare], 2, GAP)


def test_bootstrap_interval_is_above_zero_when_a_wins_every_day():
    a = {d: (4, 4) for d in range(10)}
    b = {d: (3 if d % 2 else 2, 4) for d in range(10)}
    d = bootstrap_difference(a, b, resamples=500, seed=1)
    assert d.difference == pytest.approx(1 - 25 / 40)
    assert 0 < d.low <= d.difference <= d.high
    assert (d.days, d.resamples) == (10, 500)


def test_bootstrap_interval_includes_zero_when_one_lucky_day_makes_the_difference():
    a = {d: (4, 4) for d in range(10)}
    b = {d: (4, 4) for d in range(10)} | {3: (0, 4)}
    d = bootstrap_difference(a, b, resamples=2000, seed=0)
    assert d.difference == pytest.approx(4 / 40)
    assert d.low == pytest.approx(0.0)  # many resamples miss day 3
    assert d.high > d.difference


def test_bootstrap_is_reproducible_with_its_seed():
    a = {d: (d % 4, 4) for d in range(8)}
    b = {d: (2, 4) for d in range(8)}
    assert bootstrap_difference(a, b, seed=7) == bootstrap_difference(a, b, seed=7)


def test_bootstrap_refuses_policies_scored_on_different_days():
    with pytest.raises(ValueError, match="different days"):
        bootstrap_difference({1: (1, 4)}, {2: (1, 4)})


def test_daily_served_splits_days_where_a_window_day_starts_when_the_gap_does_not_divide_a_day():
    # 195 s ticks: day 10 starts at tick floor(10 x 86400 / 195) = 4430, whose time is still
    # in day 9 by the clock; a window of days 10-12 must hold days 10 and 11 only.
    first, second, third = 4430, 4873, 5316  # floor(d x 86400 / 195) for d = 10, 11, 12
    ready = [2] * (third - first)
    days = daily_served([result("planner", ready, first_tick=first)], 2, 195)
    assert days == {10: (second - first, second - first), 11: (third - second, third - second)}
