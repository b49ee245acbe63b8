"""How well the model fitted before a window ranks that window's losses: walk-forward AUC.

The model's own held-out score (``meta["holdout"]``) is measured on the last ticks it was
trained on, days before the window it then decides. The planner is judged on the window, so
its model is too: the prior fitted on the ticks before ``start`` (``train_prior``) predicts
every tick of ``[start, end)`` from what the planner is shown there (the trace through the
production-signal mapping, as a fleet holding nothing would see it), labelled by the trace's
capacity drops within the model's horizon (a label needs its whole horizon inside the
window). The 24-hour availability baseline is scored on the same rows.

Pooled over windows, the rows of every window are ranked together: a model whose level drifts
from window to window is marked down for it, as a planner comparing risk over time would be.

``score_left_out`` scores the same window by the same model fitted on every other day of the
trace instead, the days after the window included: more (and later) data than any model that
decides the window can have, so its AUC is about the most these signals allow, and a
walk-forward AUC close under it is short of the data, not of the fitting.
Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from reconciler.core.market import MarketSeries
from reconciler.core.signals import signals_from_market
from reconciler.decide.baselines import availability_baseline
from reconciler.decide.labels import loss_labels
from reconciler.decide.model import ModelSettings, TrainedModel
from reconciler.decide.model_compare import Scores, score
from reconciler.decide.signal_features import compute_signal_features
from reconciler.decide.signal_model import train_prior

__all__ = ["WindowScores", "pooled_scores", "score_left_out", "score_window"]


@dataclass(frozen=True)
class WindowScores:
    """A window's labelled pool-ticks, and the model's and the baseline's P(loss) on them."""

    labels: npt.NDArray[np.float64]
    model: npt.NDArray[np.float64]
    baseline: npt.NDArray[np.float64]

    @property
    def model_scores(self) -> Scores:
        return score(self.labels, self.model)

    @property
    def baseline_scores(self) -> Scores:
        return score(self.labels, self.baseline)


def score_window(
    market: MarketSeries,
    start: int,
    end: int,
    model: TrainedModel,
    *,
    score_every_s: float,
    score_target: int,
) -> WindowScores:
    """The model and the baseline on ticks ``[start, end)`` of ``market`` (module docstring)."""
    end = min(end, market.n_ticks)
    seen = market.prefix(end)
    signals = signals_from_market(seen, score_every_s=score_every_s, score_target=score_target)
    ticks = np.arange(start, end, dtype=np.int64)
    x = compute_signal_features(signals, ticks)
    y = loss_labels(
        seen.capacity,
        ticks,
        horizon_seconds=model.horizon_s,
        gap_seconds=market.gap_seconds,
        known_until=end,
    )
    mask = ~np.isnan(y)
    rows = x[mask]
    return WindowScores(
        labels=y[mask],
        model=model.predict_features(rows),
        baseline=availability_baseline(rows),
    )


def score_left_out(
    market: MarketSeries,
    start: int,
    end: int,
    settings: ModelSettings,
    *,
    score_every_s: float,
    score_target: int,
) -> WindowScores:
    """Ticks ``[start, end)`` scored by the prior fitted on every tick of ``market`` whose label
    does not read them (the future included): about the most the signals allow (module doc)."""
    model = train_prior(
        market,
        settings=settings,
        score_every_s=score_every_s,
        score_target=score_target,
        leave_out=(start, end),
    )
    return score_window(
        market, start, end, model, score_every_s=score_every_s, score_target=score_target
    )


def pooled_scores(windows: Sequence[WindowScores]) -> WindowScores:
    """Every window's rows as one set."""
    return WindowScores(
        labels=np.concatenate([w.labels for w in windows]),
        model=np.concatenate([w.model for w in windows]),
        baseline=np.concatenate([w.baseline for w in windows]),
    )
