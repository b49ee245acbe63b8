"""Ranking kept pools by the expected dollars per hour of a node placed there."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from reconciler.decide.planner.settings import PlannerSettings
from reconciler.decide.planner.types import PoolView

__all__ = ["ScoredPool", "score_pool"]


@dataclass(frozen=True, slots=True)
class ScoredPool:
    pool: PoolView
    score: float  # expected $/h (lower is better)
    reason: str


def score_pool(
    pool: PoolView,
    *,
    zone_nodes: Mapping[str, int],
    horizon_s: float,
    cold_start_s: float,
    settings: PlannerSettings,
) -> ScoredPool:
    """Price, plus the loss rate times what a loss costs, plus a penalty for crowding a zone.

    A loss costs the replacement's cold start and the interrupted work, valued at
    on-demand x unserved_weight per node-hour, because while the fleet is short it is
    not serving.
    """
    loss_cost = (
        pool.on_demand_price
        * settings.unserved_weight
        * (cold_start_s + settings.work_lost_s)
        / 3600
    )
    loss_per_hour = pool.loss_probability * 3600.0 / horizon_s
    crowd = zone_nodes.get(pool.zone, 0)
    spread = settings.spread_penalty * pool.spot_price * crowd
    score = pool.spot_price + loss_per_hour * loss_cost + spread
    reason = (
        f"{pool.name}: ${pool.spot_price:.3f}/h "
        f"+ loss {pool.loss_probability:.2f}/{horizon_s / 60:.0f}min "
        f"x ${loss_cost:.2f}" + (f" + zone holds {crowd}" if crowd else "") + f" = ${score:.3f}/h"
    )
    return ScoredPool(pool, score, reason)
