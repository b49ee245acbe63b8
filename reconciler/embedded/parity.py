"""The backtest of the demo's own market window: what the demo's figures should be.

The same pools (the fleet's candidates in the demo's region, capacity as the demo's market
plays it), the same window (the live ticks), the same K and cold start, the planner through
the same acting path (``reconciler.replay.planner_policy``). Next to the live figures it says
how far the embedded default's timing (processes, queues, the wall clock) moves the result.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reconciler.core.market import MarketSeries, PoolInfo
from reconciler.core.settings import FleetTarget
from reconciler.embedded.replay import ReplayedMarket
from reconciler.replay.engine import replay
from reconciler.replay.planner_policy import PlannerPolicy

__all__ = ["Replayed", "replay_demo_window"]


@dataclass(frozen=True, slots=True)
class Replayed:
    ready_fraction: float  # REPLAY.md's mean_ready_fraction
    # cost / the same node-hours on demand, each at its type's price (the demo's definition)
    cost_ratio: float
    availability: float


def replay_demo_window(
    market: ReplayedMarket,
    fleet: FleetTarget,
    *,
    start: int,
    end: int,
    k: int,
    cold_start_s: float,
) -> Replayed:
    zones = set(fleet.subnets)
    # The fleet's declared type order first: the first pool's on-demand price is the replay's,
    # as the on-demand group launches the first declared type.
    order = {t: i for i, t in enumerate(fleet.instance_types)}
    pools = sorted(
        (
            m
            for m in market.in_region(fleet.region)
            if m.pool.zone in zones and m.pool.instance_type in order
        ),
        key=lambda m: (order[m.pool.instance_type], m.pool.zone),
    )
    if not pools:
        raise ValueError(f"the demo's market has none of fleet {fleet.name}'s pools")
    end = min(end, min(len(m.capacity) for m in pools))
    capacity = np.stack([m.capacity[:end] for m in pools]).astype(np.int32)
    spot = np.array([m.spot_price for m in pools], dtype=np.float64)
    series = MarketSeries(
        pools=tuple(PoolInfo(m.pool.region, m.pool.zone, m.pool.instance_type) for m in pools),
        gap_seconds=market.gap_s,
        t0=market.begin.timestamp(),
        capacity=capacity,
        spot_price=np.broadcast_to(spot[:, None], capacity.shape),
        on_demand_price=np.array([m.on_demand_price for m in pools], dtype=np.float64),
        advisor_band=np.full(len(pools), np.nan),
    )
    result = replay(
        PlannerPolicy(cold_start_s=cold_start_s),
        series,
        k=max(1, k),
        start=start,
        end=max(end, start + 1),
        cold_start_seconds=cold_start_s,
    )
    on_demand = sum(record.on_demand_value for record in result.timeline)
    return Replayed(
        ready_fraction=result.mean_ready_fraction,
        cost_ratio=result.cost / on_demand if on_demand > 0 else 0.0,
        availability=result.availability,
    )
