"""``plan``'s decision: one decision for an empty fleet at a day of the traces, made as the
daemon makes it.

The daemon decides on the production signals alone (``reconciler.core.signals``: placement
scores, prices, advisor bands, its own nodes), never on a capacity number AWS does not give.
So the traces are first seen as a fleet holding nothing would see them
(``signals_from_market``: scores from the free capacity, at the daemon's placement-score
cadence, for a request of K nodes), then ``decide_on_signals`` predicts and plans, with:

- ``--model DIR``: the registry's blend at ``DIR`` (``live_blend``: the prior ``train --traces
  --out DIR`` wrote, with the promoted own model if there is one); the baseline where the
  pointer names it or nothing is there, as in the daemon;
- no ``--model``: a prior fitted on the ticks before the day (``train_prior``, as the
  backtest's planner does).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reconciler.core.market import MarketSeries
from reconciler.core.settings import Cadences
from reconciler.core.signals import signals_from_market
from reconciler.decide.model import ModelSettings
from reconciler.decide.model_registry import live_blend
from reconciler.decide.pipeline import Decided
from reconciler.decide.planner import FleetDeclaration, PlannerSettings
from reconciler.decide.signal_model import PriorAndOwn, train_prior
from reconciler.decide.signal_pipeline import decide_on_signals

__all__ = ["PlanDecision", "decide_at"]


@dataclass(frozen=True)
class PlanDecision:
    decided: Decided
    deciding: str  # what decided, in words, for the operator


def _blend(
    market: MarketSeries,
    tick: int,
    *,
    model_dir: Path | None,
    settings: ModelSettings,
    score_every_s: float,
    score_target: int,
) -> tuple[PriorAndOwn | None, str]:
    if model_dir is None:
        prior = train_prior(
            market,
            end=tick,
            settings=settings,
            score_every_s=score_every_s,
            score_target=score_target,
        )
        return PriorAndOwn(prior, None, prior.settings), f"a prior fitted on ticks 0-{tick - 1}"
    blend, pointer = live_blend(model_dir)
    if blend is None:
        why = pointer.reason if pointer is not None else "nothing trained there yet"
        return None, f"the 24-hour availability baseline ({model_dir}: {why})"
    parts = [p for p, m in (("the prior", blend.prior), ("the own model", blend.own)) if m]
    live = pointer.model_id if pointer is not None else None
    return blend, f"{' and '.join(parts)} at {model_dir} (live: {live})"


def decide_at(
    market: MarketSeries,
    tick: int,
    *,
    k: int,
    fleet_name: str,
    model_dir: Path | None,
    cold_start_s: float,
    model_settings: ModelSettings,
    planner_settings: PlannerSettings,
    score_every_s: float | None = None,
) -> PlanDecision:
    """The decision at the start of ``tick`` (ticks before it seen), for K nodes."""
    every_s = Cadences().placement_scores_s if score_every_s is None else score_every_s
    blend, deciding = _blend(
        market,
        tick,
        model_dir=model_dir,
        settings=model_settings,
        score_every_s=every_s,
        score_target=k,
    )
    seen = market.prefix(tick)
    signals = signals_from_market(seen, score_every_s=every_s, score_target=k)
    decided = decide_on_signals(
        signals,
        fleet=FleetDeclaration(name=fleet_name, desired_nodes=k),
        nodes=(),
        now=seen.t0 + (tick - 1) * seen.gap_seconds,
        model=blend,
        model_settings=blend.settings if blend is not None else model_settings,
        planner_settings=planner_settings,
        cold_start_s=cold_start_s,
    )
    return PlanDecision(
        decided,
        f"on the production signals (placement scores every {every_s:g} s for {k} nodes, "
        f"spot prices, advisor bands; no capacity number), with {deciding}",
    )
