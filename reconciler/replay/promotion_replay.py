"""A retrain's judging window replayed through the executed decision path, per decider.

Scores say how well a model ranks; what matters is how the fleet serves when it decides. So
the days a candidate was judged on are replayed (``reconciler.replay.engine.replay``) with the
daemon's own controller (``PlannerPolicy``: plan, guards, groups, a refused launch re-placed)
deciding with each of three: the candidate, the live model, and no model (the 24-hour
availability baseline, ``planner_no_model``). ``reconciler.decide.model_compare`` takes the
figures and promotes only a candidate that serves at least as well.

The market replayed is the one the fleet saw, rebuilt from its recorded signals
(``replayed_market``): a pool's capacity at a tick is what the fleet could believe it was
(``believed_capacity``: the nodes it held when the pool was last scored plus the room that
score stands for, less the nodes it lost since, no more than it held once it lost one there or
a launch there was refused), so a replayed node beyond it is preempted where the fleet lost
its own; a pool's spot price is its mean over the window (the engine prices a pool once,
REPLAY.md). **An approximation**: what AWS would have done with a placement the fleet did not
make is unknown beyond what the placement scores say, and the replayed fleet starts the window
empty (its first ticks are a cold start, the same for all three).

Per fleet of the daemon's (its pools), K is what the fleet ran in the window: the ceiling of
its mean spot nodes held, at least 1. The fleets' figures are pooled weighted by ticks x K.
Pure: signals and models in, figures out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from reconciler.core.errors import WindowError
from reconciler.core.market import MarketSeries
from reconciler.core.settings import Cadences, SafetySettings
from reconciler.core.signals import FleetSignals
from reconciler.decide.model_compare import Replayed, ReplayedFigures
from reconciler.decide.signal_features import believed_capacity
from reconciler.decide.signal_model import PriorAndOwn
from reconciler.replay.engine import ReplayResult, replay
from reconciler.replay.planner_policy import PlannerPolicy

__all__ = [
    "FleetReplay",
    "ReplayPath",
    "fleet_k",
    "replay_fleet",
    "replay_window",
    "replayed_market",
]


@dataclass(frozen=True)
class ReplayPath:
    """The daemon's settings the decision path runs with (``DaemonSettings``' own)."""

    cold_start_s: float = 300.0
    safety: SafetySettings = field(default_factory=SafetySettings)
    score_every_s: float = field(default_factory=lambda: Cadences().placement_scores_s)


@dataclass(frozen=True)
class FleetReplay:
    """One fleet's window replayed with each decider."""

    pools: tuple[str, ...]
    k: int
    candidate: ReplayResult
    baseline: ReplayResult
    live: ReplayResult | None


def _rows(signals: FleetSignals, rows: npt.NDArray[np.int64]) -> FleetSignals:
    """The signals of the pools at ``rows`` only."""
    return FleetSignals(
        pools=tuple(signals.pools[i] for i in rows),
        gap_seconds=signals.gap_seconds,
        t0=signals.t0,
        spot_price=signals.spot_price[rows],
        on_demand_price=signals.on_demand_price[rows],
        advisor_band=signals.advisor_band[rows],
        placement_score=signals.placement_score[rows],
        score_target=signals.score_target,
        held=signals.held[rows],
        warned=signals.warned[rows],
        interrupted=signals.interrupted[rows],
        launches_tried=signals.launches_tried[rows],
        launches_refused=signals.launches_refused[rows],
        observed_from=None if signals.observed_from is None else signals.observed_from[rows],
    )


def replayed_market(signals: FleetSignals, start: int) -> MarketSeries:
    """The market the fleet saw (module docstring): believed capacity, the fleet's losses as
    warnings, each pool's mean spot price over ticks ``start..`` (its on-demand price where
    none was recorded)."""
    window = signals.spot_price[:, start:]
    with np.errstate(invalid="ignore"):
        known = np.isfinite(window)
        total = np.where(known, window, 0.0).sum(axis=1)
        count = known.sum(axis=1)
    mean = np.where(count > 0, total / np.maximum(count, 1), signals.on_demand_price)
    return MarketSeries(
        pools=signals.pools,
        gap_seconds=signals.gap_seconds,
        t0=signals.t0,
        capacity=believed_capacity(signals),
        spot_price=np.broadcast_to(mean[:, None], signals.spot_price.shape),
        on_demand_price=signals.on_demand_price,
        advisor_band=signals.advisor_band,
        observed_from=signals.observed_from,
        warnings=signals.losses(),
    )


def fleet_k(signals: FleetSignals, start: int) -> int:
    """What the fleet ran over ticks ``start..``: the ceiling of its mean spot nodes held
    (every pool of ``signals``), at least 1."""
    held = signals.held[:, start:].sum(axis=0)
    mean = float(held.mean()) if held.size else 0.0
    return max(1, math.ceil(mean - 1e-9))


def _one(
    market: MarketSeries,
    start: int,
    k: int,
    path: ReplayPath,
    name: str,
    decider: PriorAndOwn | None,
) -> ReplayResult:
    policy = PlannerPolicy(
        name=name,
        use_model=False,  # a decider is handed in, or none (the baseline): nothing is fitted
        blend=decider,
        cold_start_s=path.cold_start_s,
        safety=path.safety,
        score_every_s=path.score_every_s,
    )
    return replay(
        policy,
        market,
        k=k,
        start=start,
        end=market.n_ticks,
        cold_start_seconds=path.cold_start_s,
    )


def replay_fleet(
    signals: FleetSignals,
    start: int,
    *,
    candidate: PriorAndOwn,
    live: PriorAndOwn | None,
    path: ReplayPath | None = None,
) -> FleetReplay:
    """One fleet's pools (``signals`` holds only those) replayed with each decider."""
    path = path or ReplayPath()
    if not 0 < start < signals.n_ticks:
        raise WindowError(
            f"the judging window starts at tick {start} of {signals.n_ticks}: nothing to replay"
        )
    market = replayed_market(signals, start)
    k = fleet_k(signals, start)
    return FleetReplay(
        pools=tuple(p.name for p in signals.pools),
        k=k,
        candidate=_one(market, start, k, path, "candidate", candidate),
        baseline=_one(market, start, k, path, "planner_no_model", None),
        live=None if live is None else _one(market, start, k, path, "live", live),
    )


def _pooled(results: Sequence[tuple[ReplayResult, int]]) -> ReplayedFigures:
    weight = sum(r.ticks * k for r, k in results)
    return ReplayedFigures(
        availability=sum(r.availability * r.ticks * k for r, k in results) / weight,
        cost_ratio=sum(r.cost_ratio * r.ticks * k for r, k in results) / weight,
    )


def replay_window(
    signals: FleetSignals,
    start: int,
    *,
    fleets: Sequence[Sequence[str]],
    candidate: PriorAndOwn,
    live: PriorAndOwn | None,
    path: ReplayPath | None = None,
) -> tuple[Replayed | None, tuple[FleetReplay, ...]]:
    """Ticks ``start..`` of ``signals`` replayed per fleet (``fleets``: each one's pools, as
    ``FleetTarget.pools()`` names them) with the candidate, the live model and the baseline,
    pooled weighted by ticks x K; None when no fleet has a pool in the signals."""
    path = path or ReplayPath()
    index = {p.name: i for i, p in enumerate(signals.pools)}
    per_fleet: list[FleetReplay] = []
    for pools in fleets:
        rows = np.array(sorted({index[p] for p in pools if p in index}), dtype=np.int64)
        if rows.size == 0:
            continue
        per_fleet.append(
            replay_fleet(_rows(signals, rows), start, candidate=candidate, live=live, path=path)
        )
    if not per_fleet:
        return None, ()
    live_figures = None
    if live is not None:
        live_figures = _pooled([(f.live, f.k) for f in per_fleet if f.live is not None])
    replayed = Replayed(
        candidate=_pooled([(f.candidate, f.k) for f in per_fleet]),
        baseline=_pooled([(f.baseline, f.k) for f in per_fleet]),
        live=live_figures,
        node_ticks=sum(f.candidate.ticks * f.k for f in per_fleet),
    )
    return replayed, tuple(per_fleet)
