"""The daemon's model from its history: the live model loaded from the registry, a model
fitted on what the daemon collected, and a candidate fitted and compared before promotion.

I/O (DuckDB reads, the registry's files), so outside the deciding room: the fitting itself is
``reconciler.decide.model``'s, on the series ``reconciler.core.history.market_series`` reads.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import duckdb

from reconciler.core.errors import DecideError, ReconcilerError
from reconciler.core.history.market_series import read_market
from reconciler.decide.model import ModelSettings, TrainedModel, train_model
from reconciler.decide.model_compare import Comparison, evaluate_candidate
from reconciler.decide.model_registry import live_model

log = logging.getLogger(__name__)

__all__ = ["fit_candidate", "load_model", "train_from_history"]


def load_model(path: Path | None) -> TrainedModel | None:
    """The live model of the registry at ``path`` (``reconciler.decide.model_registry``); None (the
    baseline decides) when none is configured, none has been trained there yet (a new fleet
    has no history to train on) or none has earned its place."""
    if path is None:
        return None
    try:
        model, _ = live_model(path)
    except ReconcilerError as exc:
        raise DecideError(f"cannot load the model at {path}: {exc}") from exc
    if model is None:
        log.warning(
            "no live model at %s: the 24-hour availability baseline decides until a retrain "
            "promotes one (python -m reconciler train --history FILE --out %s)",
            path,
            path,
        )
    return model


def train_from_history(
    con: duckdb.DuckDBPyConnection,
    pools: list[str],
    *,
    now: datetime,
    lookback_s: float,
    grid_s: int,
    on_iteration: Callable[[int, int], None] | None = None,
) -> TrainedModel:
    """The interruption model fitted on what the daemon has collected: the same features and
    labels a backtest fits on, read from the history (on a time split, as ``train``)."""
    try:
        series = read_market(con, until=now, lookback_s=lookback_s, pools=pools, interval_s=grid_s)
        return train_model(series, settings=ModelSettings(), on_iteration=on_iteration)
    except ReconcilerError as exc:
        raise DecideError(f"cannot train from the history: {exc}") from exc


def fit_candidate(
    con: duckdb.DuckDBPyConnection,
    pools: list[str],
    *,
    now: datetime,
    lookback_s: float,
    grid_s: int | None,
    evaluation_s: float,
    live: TrainedModel | None,
    live_id: str | None,
    on_iteration: Callable[[int, int], None] | None = None,
) -> tuple[TrainedModel, Comparison]:
    """A candidate fitted on the history before the last ``evaluation_s``, and how it, the live
    model and the baseline score on those days (``reconciler.decide.model_compare``). ``grid_s``
    None: the history's most common observation interval."""
    try:
        series = read_market(con, until=now, lookback_s=lookback_s, pools=pools, interval_s=grid_s)
        start = series.n_ticks - max(1, round(evaluation_s / series.gap_seconds))
        if start <= 0:
            raise DecideError(
                f"the history holds {series.n_ticks * series.gap_seconds / 86400:.1f} days, not "
                f"more than the {evaluation_s / 86400:.1f} evaluation days; collect longer"
            )
        model = train_model(series, end=start, settings=ModelSettings(), on_iteration=on_iteration)
        return model, evaluate_candidate(series, start, candidate=model, live=live, live_id=live_id)
    except ReconcilerError as exc:
        raise DecideError(f"cannot train from the history: {exc}") from exc
