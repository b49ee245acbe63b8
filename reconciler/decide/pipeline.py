"""One decision from market series: features → loss probabilities → snapshot → plan.

Pure: the caller brings the series (from traces or from the history), the fleet as it
is, the declaration and ``now``. ``reconciler.core.history.market_series`` builds the series
from DuckDB.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from reconciler.core.market import MarketSeries, PoolInfo
from reconciler.decide.baselines import availability_baseline
from reconciler.decide.features import compute_features
from reconciler.decide.model import ModelSettings, PoolPrediction, TrainedModel, advisor_prior
from reconciler.decide.planner import (
    FleetDeclaration,
    FleetNode,
    Plan,
    PlannerSettings,
    PoolView,
    Snapshot,
    plan,
)

__all__ = ["Decided", "decide", "plan_pools", "predict_losses", "predict_pools"]


def predict_losses(
    features: npt.NDArray[np.float64],
    *,
    model: TrainedModel | None,
    history_s: npt.NDArray[np.float64],
    advisor_band: npt.NDArray[np.float64],
    horizon_s: float,
    settings: ModelSettings,
) -> tuple[npt.NDArray[np.float64], list[str]]:
    """Loss probability and its basis per pool, from one tick's features (pools, F).

    Without a model, one minus the 24-hour availability stands in (``planner_no_model``).
    Pools watched for less than ``min_history_s`` get their advisor prior instead.
    """
    if model is not None:
        probs = model.predict_features(features)
        basis = ["model"] * len(probs)
    else:
        probs = availability_baseline(features)
        basis = ["baseline"] * len(probs)
    for i in range(len(probs)):
        if history_s[i] < settings.min_history_s:
            probs[i] = advisor_prior(float(advisor_band[i]), horizon_s, settings.prior_floor)
            basis[i] = "advisor_prior"
    return probs, basis


def predict_pools(
    series: MarketSeries,
    *,
    model: TrainedModel | None,
    settings: ModelSettings,
) -> list[PoolPrediction]:
    """Predictions for every pool at the last tick of ``series``, each saying its basis."""
    t = series.n_ticks - 1
    feats = compute_features(series, [t])[0]
    history_s = ((t + 1 - series.first_observed()) * series.gap_seconds).astype(np.float64)
    probs, basis = predict_losses(
        feats,
        model=model,
        history_s=history_s,
        advisor_band=series.advisor_band,
        horizon_s=settings.horizon_s,
        settings=settings,
    )
    out = []
    for i, p in enumerate(series.pools):
        why = {
            "model": f"model: P(loss within {settings.horizon_s / 60:.0f} min) = {probs[i]:.3f}",
            "baseline": f"1 - 24 h availability = {probs[i]:.3f}",
            "advisor_prior": (
                f"watched {history_s[i] / 3600:.1f} h < {settings.min_history_s / 3600:.0f} h: "
                f"Spot Advisor band {series.advisor_band[i]:.0f} prior {probs[i]:.3f}"
            ),
        }[basis[i]]
        out.append(PoolPrediction(p.name, float(probs[i]), basis[i], why))
    return out


@dataclass(frozen=True)
class Decided:
    predictions: tuple[PoolPrediction, ...]
    snapshot: Snapshot
    plan: Plan


def decide(
    series: MarketSeries,
    *,
    fleet: FleetDeclaration,
    nodes: tuple[FleetNode, ...],
    now: float,
    model: TrainedModel | None,
    model_settings: ModelSettings,
    planner_settings: PlannerSettings,
    cold_start_s: float,
    recent_losses: tuple[float, ...] = (),
) -> Decided:
    """Predict every pool at the series' last tick and plan the fleet from there."""
    predictions = predict_pools(series, model=model, settings=model_settings)
    t = series.n_ticks - 1
    return plan_pools(
        series.pools,
        predictions,
        capacity=series.capacity[:, t],
        spot_price=series.spot_price[:, t],
        on_demand_price=series.on_demand_price,
        fleet=fleet,
        nodes=nodes,
        now=now,
        horizon_s=model_settings.horizon_s,
        planner_settings=planner_settings,
        cold_start_s=cold_start_s,
        recent_losses=recent_losses,
    )


def plan_pools(
    pools: Sequence[PoolInfo],
    predictions: Sequence[PoolPrediction],
    *,
    capacity: npt.NDArray[np.integer[Any]] | npt.NDArray[np.floating[Any]],
    spot_price: npt.NDArray[np.float64],
    on_demand_price: npt.NDArray[np.float64],
    fleet: FleetDeclaration,
    nodes: tuple[FleetNode, ...],
    now: float,
    horizon_s: float,
    planner_settings: PlannerSettings,
    cold_start_s: float,
    recent_losses: tuple[float, ...],
) -> Decided:
    """The snapshot of every pool at ``now`` (its capacity, prices and predicted loss) and the
    plan from it: the one tail of a decision from market series and from signals."""
    views = tuple(
        PoolView(
            name=p.name,
            region=p.region,
            zone=p.zone,
            instance_type=p.instance_type,
            capacity=int(capacity[i]),
            spot_price=float(spot_price[i]),
            on_demand_price=float(on_demand_price[i]),
            loss_probability=pred.probability,
            basis=pred.basis,
        )
        for i, (p, pred) in enumerate(zip(pools, predictions, strict=True))
    )
    snapshot = Snapshot(
        now=now,
        fleet=fleet,
        pools=views,
        nodes=nodes,
        horizon_s=horizon_s,
        cold_start_s=cold_start_s,
        recent_losses=recent_losses,
    )
    return Decided(tuple(predictions), snapshot, plan(snapshot, planner_settings))
