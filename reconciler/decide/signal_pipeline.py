"""One decision from fleet signals: signal features → loss probabilities → snapshot → plan.

The production-signal twin of ``reconciler.decide.pipeline.decide``: the pool's capacity in
the snapshot (what the ``has_free_slot`` filter reads) is its **believed** capacity
(``believed_capacity``: the last placement score's room plus the nodes held then, less the
losses since, none after a refused launch), never a number AWS does not give. Pure.
"""

from __future__ import annotations

import numpy as np

from reconciler.core.signals import FleetSignals
from reconciler.decide.baselines import availability_baseline
from reconciler.decide.model import ModelSettings, PoolPrediction, advisor_prior
from reconciler.decide.pipeline import Decided, plan_pools
from reconciler.decide.planner import (
    FleetDeclaration,
    FleetNode,
    PlannerSettings,
)
from reconciler.decide.signal_features import belief_series, compute_signal_features
from reconciler.decide.signal_model import PriorAndOwn

__all__ = ["decide_on_signals", "predict_on_signals"]


def predict_on_signals(
    signals: FleetSignals, *, model: PriorAndOwn | None, settings: ModelSettings
) -> tuple[list[PoolPrediction], np.ndarray]:
    """Predictions for every pool at the last tick, and the believed capacity there."""
    t = signals.n_ticks - 1
    belief = belief_series(signals)
    feats = compute_signal_features(signals, [t], belief=belief)[0]
    history_s = ((t + 1 - signals.first_observed()) * signals.gap_seconds).astype(np.float64)
    if model is not None:
        probs = model.predict_features(feats)
        basis = ["model"] * len(probs)
    else:
        probs = availability_baseline(feats)
        basis = ["baseline"] * len(probs)
    out = []
    for i, p in enumerate(signals.pools):
        if history_s[i] < settings.min_history_s:
            probs[i] = advisor_prior(
                float(signals.advisor_band[i]), settings.horizon_s, settings.prior_floor
            )
            basis[i] = "advisor_prior"
        why = {
            "model": f"model (signals): P(loss within {settings.horizon_s / 60:.0f} min) = "
            f"{probs[i]:.3f}",
            "baseline": f"1 - 24 h believed availability = {probs[i]:.3f}",
            "advisor_prior": (
                f"watched {history_s[i] / 3600:.1f} h < {settings.min_history_s / 3600:.0f} h: "
                f"Spot Advisor band {signals.advisor_band[i]:.0f} prior {probs[i]:.3f}"
            ),
        }[basis[i]]
        out.append(PoolPrediction(p.name, float(probs[i]), basis[i], why))
    return out, belief.capacity[:, t]


def decide_on_signals(
    signals: FleetSignals,
    *,
    fleet: FleetDeclaration,
    nodes: tuple[FleetNode, ...],
    now: float,
    model: PriorAndOwn | None,
    model_settings: ModelSettings,
    planner_settings: PlannerSettings,
    cold_start_s: float,
    recent_losses: tuple[float, ...] = (),
) -> Decided:
    """Predict every pool at the signals' last tick and plan the fleet from there."""
    predictions, believed = predict_on_signals(signals, model=model, settings=model_settings)
    t = signals.n_ticks - 1
    return plan_pools(
        signals.pools,
        predictions,
        capacity=believed,
        spot_price=signals.spot_price[:, t],
        on_demand_price=signals.on_demand_price,
        fleet=fleet,
        nodes=nodes,
        now=now,
        horizon_s=model_settings.horizon_s,
        planner_settings=planner_settings,
        cold_start_s=cold_start_s,
        recent_losses=recent_losses,
    )
