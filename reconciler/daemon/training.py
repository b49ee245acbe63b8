"""The daemon's model from its history: the live blend loaded from the registry, an own model
fitted on the fleet's signals, and a candidate fitted and compared before promotion.

What decides is ``PriorAndOwn`` (docs/deciding.md): the prior (public traces, the registry's
plain artifact) blended with the own model fitted on the history's fleet signals
(``reconciler.core.history.fleet_signals.read_signals``: placement scores, the fleet's nodes,
their warnings and interruptions, refused launches, prices; never a capacity number).

A candidate is judged on the last days twice over: the scores (AUC, Brier:
``reconciler.decide.model_compare``) and those days replayed through the daemon's own decision
path with each of the three (``reconciler.replay.promotion_replay``); the rule asks both.

I/O (DuckDB reads, the registry's files), so outside the deciding room: the fitting itself is
``reconciler.decide.signal_model``'s.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

import duckdb

from reconciler.core.errors import DecideError, ReconcilerError
from reconciler.core.history.fleet_signals import read_signals
from reconciler.decide.model import ModelSettings, TrainedModel
from reconciler.decide.model_compare import (
    Comparison,
    evaluate_on_signals,
    evaluation_start,
    with_replay,
)
from reconciler.decide.model_registry import live_blend
from reconciler.decide.signal_model import PriorAndOwn, train_own
from reconciler.replay.promotion_replay import ReplayPath, replay_window

log = logging.getLogger(__name__)

__all__ = ["fit_candidate", "load_model", "train_from_history"]


def load_model(path: Path | None) -> PriorAndOwn | None:
    """What decides from the registry at ``path`` (``reconciler.decide.model_registry``): the
    prior blended with the live own model; None (the baseline decides) when none is
    configured, nothing has been trained there yet or nothing has earned its place."""
    if path is None:
        return None
    try:
        model, _ = live_blend(path)
    except ReconcilerError as exc:
        raise DecideError(f"cannot load the model at {path}: {exc}") from exc
    if model is None:
        log.warning(
            "no live model at %s: the 24-hour availability baseline decides until a retrain "
            "promotes one (python -m reconciler train --history FILE --out %s), or a prior is "
            "written there (python -m reconciler train --traces DIR --out %s)",
            path,
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
    grid_s: int | None,
    on_iteration: Callable[[int, int], None] | None = None,
) -> TrainedModel:
    """The own model fitted on the fleet signals the daemon has collected, labelled by its
    own nodes (on a time split, as ``train``)."""
    try:
        signals = read_signals(
            con, until=now, lookback_s=lookback_s, pools=pools, interval_s=grid_s
        )
        return train_own(signals, settings=ModelSettings(), on_iteration=on_iteration)
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
    live: PriorAndOwn | None,
    live_id: str | None,
    fleets: Sequence[Sequence[str]] | None = None,
    replay_path: ReplayPath | None = None,
    on_iteration: Callable[[int, int], None] | None = None,
) -> tuple[PriorAndOwn, Comparison]:
    """A candidate: the live prior (if any) with an own model fitted on the signals before the
    last ``evaluation_s`` (the last third of the own evidence while that is short:
    ``evaluation_start``), and how it, the live blend and the baseline score on those days
    (``reconciler.decide.model_compare.evaluate_on_signals``) and, for a candidate those scores
    let through (only then: the replay is the dear part), serve them replayed through the
    decision path, per fleet (``fleets``: each one's pools; None: ``pools`` as one fleet)
    with the daemon's settings (``replay_path``). ``grid_s`` None: the signal grid's default."""
    try:
        signals = read_signals(
            con, until=now, lookback_s=lookback_s, pools=pools, interval_s=grid_s
        )
        start = evaluation_start(signals, evaluation_s)
        if start <= 0:
            raise DecideError(
                f"the history holds {signals.n_ticks * signals.gap_seconds / 86400:.1f} days, "
                f"not more than the {evaluation_s / 86400:.1f} evaluation days; collect longer"
            )
        settings = ModelSettings()
        own = train_own(signals, end=start, settings=settings, on_iteration=on_iteration)
        prior = live.prior if live is not None else None
        candidate = PriorAndOwn(prior=prior, own=own, settings=settings)
        scored = evaluate_on_signals(
            signals, start, candidate=candidate, live=live, live_id=live_id
        )
        if not scored.promoted:
            # The replay is the dear part of a retrain: not for a candidate the scores keep out.
            return candidate, scored
        began = time.monotonic()
        replayed, per_fleet = replay_window(
            signals,
            start,
            fleets=[pools] if fleets is None else fleets,
            candidate=candidate,
            live=live,
            path=replay_path,
        )
        log.info(
            "retrain: replayed %d ticks of %d fleet(s) (K %s) with 3 deciders in %.1f s",
            signals.n_ticks - start,
            len(per_fleet),
            ", ".join(str(f.k) for f in per_fleet) or "-",
            time.monotonic() - began,
        )
        return candidate, with_replay(scored, replayed)
    except ReconcilerError as exc:
        raise DecideError(f"cannot train from the history: {exc}") from exc
