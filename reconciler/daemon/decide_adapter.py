"""The daemon's one door to the deciding code (features, model, planner).

If ``reconciler.decide.pipeline``, ``reconciler.core.history.market_series`` or the planner's
types change, this is the module to fix. It reads the market from the history, lets
``decide`` predict and plan, applies the daemon's risk marks (a warned pool is taken as about
to go) and plans again, and turns what the groups hold into the stack's placement (zones → subnets).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from reconciler.control import GroupTargets
from reconciler.core.errors import DecideError, ReconcilerError
from reconciler.core.history.market_series import read_market, recent_losses
from reconciler.core.reactions import Mark
from reconciler.core.settings import FleetTarget
from reconciler.decide.model import ModelSettings, PoolPrediction, TrainedModel, train_model
from reconciler.decide.model_compare import Comparison, evaluate_candidate
from reconciler.decide.model_registry import live_model
from reconciler.decide.pipeline import decide
from reconciler.decide.planner import (
    FleetDeclaration,
    FleetNode,
    Plan,
    PlannerSettings,
    Snapshot,
    plan,
)
from stacks.spec import Placement, PoolCount, placement_to_config

log = logging.getLogger(__name__)

__all__ = [
    "Planned",
    "fit_candidate",
    "load_model",
    "plan_fleet",
    "prediction_rows",
    "to_stack_placement",
    "train_from_history",
]


@dataclass(frozen=True)
class Planned:
    plan: Plan
    snapshot: Snapshot  # what the plan read, risk marks applied: re-planned from, without I/O
    predictions: tuple[PoolPrediction, ...]
    prices: dict[str, tuple[float, float]]  # pool -> (spot $/h, on-demand $/h)
    reasons: dict[str, str]  # pool -> the planner's verdict, with marks said


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


def plan_fleet(
    con: duckdb.DuckDBPyConnection,
    fleet: FleetTarget,
    *,
    now: datetime,
    desired_nodes: int,
    nodes: tuple[FleetNode, ...],
    marks: dict[str, Mark],
    model: TrainedModel | None,
    lookback_s: float,
    grid_s: int,
    cold_start_s: float,
) -> Planned:
    pools = fleet.pools()
    try:
        series = read_market(con, until=now, lookback_s=lookback_s, pools=pools, interval_s=grid_s)
        losses = recent_losses(con, pools=pools, until=now, window_s=PlannerSettings().alert_s)
    except ReconcilerError as exc:
        raise DecideError(str(exc)) from exc
    declaration = FleetDeclaration(
        name=fleet.name,
        desired_nodes=desired_nodes,
        on_demand_floor=min(fleet.on_demand_floor, desired_nodes),
        max_nodes=fleet.max_nodes,
    )
    planner_settings = PlannerSettings()
    decided = decide(
        series,
        fleet=declaration,
        nodes=nodes,
        now=now.timestamp(),
        model=model,
        model_settings=ModelSettings(),
        planner_settings=planner_settings,
        cold_start_s=cold_start_s,
        recent_losses=losses,
    )
    snapshot, result = decided.snapshot, decided.plan
    if any(p.name in marks for p in snapshot.pools):
        views = tuple(
            dataclasses.replace(
                p, loss_probability=max(p.loss_probability, marks[p.name].loss), basis="marked"
            )
            if p.name in marks
            else p
            for p in snapshot.pools
        )
        snapshot = dataclasses.replace(snapshot, pools=views)
        result = plan(snapshot, planner_settings)
    reasons = result.reasons()
    for pool, mark in marks.items():
        if pool in reasons:
            reasons[pool] = f"{reasons[pool]} [{mark.reason}]"
    prices = {p.name: (p.spot_price, p.on_demand_price) for p in snapshot.pools}
    return Planned(result, snapshot, decided.predictions, prices, reasons)


def to_stack_placement(
    targets: GroupTargets, fleet: FleetTarget, decision_id: str, planned: Plan
) -> dict[str, Any]:
    """What the groups hold, as ``spotfleet:placements.<fleet>`` JSON: each candidate pool's
    node count (zone -> the fleet's subnet there) and the on-demand group's, validated by the
    stack's own contract (``stacks.spec.Placement``) in every mode, shadow included."""
    placement = Placement(
        pools=tuple(
            PoolCount(instance_type=pool.instance_type, subnet_id=fleet.subnets[pool.zone], nodes=n)
            for pool, n in sorted(targets.spot.items())
            if n > 0 and pool.zone in fleet.subnets and pool.name in fleet.spot_groups
        ),
        on_demand=targets.on_demand,
        decision_id=decision_id,
        reason=planned.placement.reason[:500],
    )
    return placement_to_config(placement)


def prediction_rows(
    planned: Planned, now: datetime, marks: dict[str, Mark], model: TrainedModel | None
) -> list[tuple[str, datetime, int, float, str, str]]:
    """Rows of the ``predictions`` table: a marked pool says so in its basis."""
    horizon = int(model.horizon_s if model is not None else ModelSettings().horizon_s)
    model_id = str(model.meta.get("model_id", "lightgbm")) if model is not None else "baseline"
    return [
        (
            p.pool,
            now,
            horizon,
            max(p.probability, marks[p.pool].loss) if p.pool in marks else p.probability,
            model_id,
            "marked" if p.pool in marks else p.basis,
        )
        for p in planned.predictions
    ]
