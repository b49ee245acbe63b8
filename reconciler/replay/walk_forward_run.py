"""A walk-forward backtest: every window of a span run in turn, then pooled and compared.

Each window is one ``run_backtest`` on the market read once; ``planner`` refits its model in
the replay's ``reset`` on the ticks before that window, so a window is scored by a model
that saw none of it, and that model's ranking of the window's losses is scored beside the
baseline's (``window_scores``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from reconciler.core.errors import WindowError
from reconciler.core.settings import Cadences
from reconciler.replay.backtest import (
    PEER_NAMES,
    BacktestConfig,
    BacktestRun,
    is_spotfleet,
    load_market,
    run_backtest,
)
from reconciler.replay.walk_forward import (
    DayWindow,
    DifferenceInterval,
    PooledFigures,
    bootstrap_difference,
    daily_served,
    pooled,
    pooled_margins,
    split_days,
)
from reconciler.replay.window_scores import (
    WindowScores,
    pooled_scores,
    score_left_out,
    score_window,
)

__all__ = ["WALK_FORWARD_POLICIES", "WalkForwardRun", "WindowRun", "run_walk_forward"]

# The two the interval compares, and the peers so margins show; the reference policies of
# REPLAY.md add nothing to "does the model help" and are left to a plain backtest.
WALK_FORWARD_POLICIES = ("planner", "planner_no_model", *PEER_NAMES)


@dataclass(frozen=True)
class WindowRun:
    window: DayWindow
    run: BacktestRun
    scores: WindowScores | None  # the refitted model and the baseline on the window's ticks
    # ... and the model fitted on every other day instead (``ceiling=True``): what the signals allow
    ceiling: WindowScores | None = None

    @property
    def model_auc(self) -> float | None:
        """The refitted model's held-out AUC (on its own last training ticks), if it ran."""
        if self.run.model is None:
            return None
        return float(self.run.model.meta["holdout"]["model"]["auc"])


@dataclass(frozen=True)
class WalkForwardRun:
    windows: tuple[WindowRun, ...]
    pooled: tuple[PooledFigures, ...]
    margins: dict[str, float]  # pooled spotfleet policies over the pooled peers' frontier
    difference: DifferenceInterval | None  # None unless planner and planner_no_model both ran
    warnings: tuple[str, ...]

    @property
    def scores(self) -> WindowScores | None:
        """Every window's model and baseline scores pooled (None: the model never ran)."""
        scored = [w.scores for w in self.windows if w.scores is not None]
        return pooled_scores(scored) if scored else None

    @property
    def ceiling(self) -> WindowScores | None:
        """Every window's left-out scores pooled (None: not asked for, or the model never ran)."""
        scored = [w.ceiling for w in self.windows if w.ceiling is not None]
        return pooled_scores(scored) if scored else None


def run_walk_forward(
    config: BacktestConfig,
    days: float,
    *,
    resamples: int = 2000,
    seed: int = 0,
    show_progress: bool = True,
    ceiling: bool = False,
) -> WalkForwardRun:
    """Split ``config``'s span (``start_day .. end_day``, default the whole trace) into
    consecutive windows of ``days`` and run ``config.policies`` over each; ``ceiling``: also
    score each window by the model fitted on every other day (``score_left_out``)."""
    loaded = load_market(config)
    c = loaded.collection
    first = config.start_day if config.start_day is not None else 0.0
    trace_days = c.n_ticks * c.gap_seconds / 86400
    last = min(config.end_day, trace_days) if config.end_day is not None else trace_days
    try:
        spans = split_days(first, last, days)
    except ValueError as exc:
        raise WindowError(f"--walk-forward {days} over days {first}..{last}: {exc}") from exc
    runs = [
        run_backtest(
            replace(config, start_day=window.start_day, end_day=window.end_day),
            show_progress=show_progress,
            loaded=loaded,
        )
        for window in spans
    ]
    # The planner's own cadence (PlannerPolicy's default): the model sees what it decided on.
    every_s = Cadences().placement_scores_s

    def scored(window: DayWindow, run: BacktestRun) -> WindowRun:
        if run.model is None:
            return WindowRun(window, run, None)
        on = (loaded.market, run.start, run.end)
        forward = score_window(*on, run.model, score_every_s=every_s, score_target=config.k)
        left_out = (
            score_left_out(*on, config.model, score_every_s=every_s, score_target=config.k)
            if ceiling
            else None
        )
        return WindowRun(window, run, forward, left_out)

    windows = tuple(scored(window, run) for window, run in zip(spans, runs, strict=True))
    results = [r for w in windows for r in w.run.results]
    names = list(dict.fromkeys(r.policy for r in results))
    figures = tuple(pooled(results, name) for name in names)
    difference = None
    if "planner" in names and "planner_no_model" in names:
        by_day = {
            name: daily_served([r for r in results if r.policy == name], config.k, c.gap_seconds)
            for name in ("planner", "planner_no_model")
        }
        difference = bootstrap_difference(
            by_day["planner"], by_day["planner_no_model"], resamples=resamples, seed=seed
        )
    return WalkForwardRun(
        windows=windows,
        pooled=figures,
        margins=pooled_margins(figures, PEER_NAMES, [n for n in names if is_spotfleet(n)]),
        difference=difference,
        warnings=loaded.warnings,
    )
