"""From a fleet's market facts to its plan: a pure function (no I/O, no clock).

The deciding room's one door for the acting loop (``reconciler.control.controller``): it lets
``pipeline.decide`` predict and plan, applies the daemon's risk marks (a warned pool is taken
as about to go) and plans again, and says every pool's verdict with its mark. The reads that
build the facts live outside the room (``reconciler.core.history.market_series``, gathered in
``reconciler.daemon.fleet_facts``); the backtest brings its own. ``plan_signals`` is the same
door for the production signals alone (``reconciler.core.signals``), which is what the
backtest's planner sees.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from reconciler.core.market import MarketSeries
from reconciler.core.reactions import Mark
from reconciler.core.settings import FleetTarget
from reconciler.core.signals import FleetSignals
from reconciler.decide.model import ModelSettings, PoolPrediction, TrainedModel
from reconciler.decide.pipeline import Decided, decide
from reconciler.decide.planner import (
    FleetDeclaration,
    FleetNode,
    Plan,
    PlannerSettings,
    Snapshot,
    plan,
)
from reconciler.decide.signal_model import PriorAndOwn
from reconciler.decide.signal_pipeline import decide_on_signals

__all__ = [
    "Planned",
    "declaration_of",
    "plan_market",
    "plan_signals",
    "prediction_rows",
    "with_marks",
]


@dataclass(frozen=True)
class Planned:
    plan: Plan
    snapshot: Snapshot  # what the plan read, risk marks applied: re-planned from, without I/O
    predictions: tuple[PoolPrediction, ...]
    prices: dict[str, tuple[float, float]]  # pool -> (spot $/h, on-demand $/h)
    reasons: dict[str, str]  # pool -> the planner's verdict, with marks said

    def price_of(self) -> dict[str | None, float]:
        """$/h of a launch by pool name, None for on-demand (the dearest pool's on-demand)."""
        out: dict[str | None, float] = {p: spot for p, (spot, _od) in self.prices.items()}
        out[None] = max((od for _s, od in self.prices.values()), default=0.0)
        return out


def declaration_of(fleet: FleetTarget, desired_nodes: int) -> FleetDeclaration:
    """The planner's fleet for ``desired_nodes`` (K from demand): the floor never above K."""
    return FleetDeclaration(
        name=fleet.name,
        desired_nodes=desired_nodes,
        on_demand_floor=min(fleet.on_demand_floor, desired_nodes),
        max_nodes=fleet.max_nodes,
    )


def plan_market(
    series: MarketSeries,
    *,
    fleet: FleetDeclaration,
    nodes: tuple[FleetNode, ...],
    now: float,
    marks: Mapping[str, Mark],
    model: TrainedModel | None,
    recent_losses: tuple[float, ...],
    cold_start_s: float,
    planner_settings: PlannerSettings,
    model_settings: ModelSettings,
) -> Planned:
    """Predict every pool at the series' last tick, take a marked pool's loss as at least its
    mark's, and plan the fleet."""
    decided = decide(
        series,
        fleet=fleet,
        nodes=nodes,
        now=now,
        model=model,
        model_settings=model_settings,
        planner_settings=planner_settings,
        cold_start_s=cold_start_s,
        recent_losses=recent_losses,
    )
    return with_marks(decided, marks, planner_settings)


def plan_signals(
    signals: FleetSignals,
    *,
    fleet: FleetDeclaration,
    nodes: tuple[FleetNode, ...],
    now: float,
    marks: Mapping[str, Mark],
    model: PriorAndOwn | None,
    recent_losses: tuple[float, ...],
    cold_start_s: float,
    planner_settings: PlannerSettings,
    model_settings: ModelSettings,
) -> Planned:
    """``plan_market`` on the production signals only (no capacity AWS would not give)."""
    decided = decide_on_signals(
        signals,
        fleet=fleet,
        nodes=nodes,
        now=now,
        model=model,
        model_settings=model_settings,
        planner_settings=planner_settings,
        cold_start_s=cold_start_s,
        recent_losses=recent_losses,
    )
    return with_marks(decided, marks, planner_settings)


def with_marks(
    decided: Decided, marks: Mapping[str, Mark], planner_settings: PlannerSettings
) -> Planned:
    """A marked pool's loss taken as at least its mark's (re-planned if any is marked), and
    the marks said in the pools' reasons."""
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


def prediction_rows(
    planned: Planned, now: datetime, marks: Mapping[str, Mark], model: TrainedModel | None
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
