"""One live decision for 500 pools with 90 days of history each: features, prediction, plan.

    .venv/bin/python -m benchmarks.deciding_decision

Target: under 1 s. The history is synthetic (two-state Markov capacity per pool, at the
195 s tick of the public traces); the model is fitted once beforehand on a small part of
it, since only its prediction is on the decision's path.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from reconciler.core.market import MarketSeries, PoolInfo
from reconciler.decide.model import ModelSettings, train_model
from reconciler.decide.pipeline import decide
from reconciler.decide.planner import FleetDeclaration, FleetNode, PlannerSettings

POOLS = 500
DAYS = 90
GAP = 195


def synthetic_market(n_pools: int, days: int, seed: int = 0) -> MarketSeries:
    rng = np.random.default_rng(seed)
    n = days * 86400 // GAP
    down = rng.uniform(0.005, 0.05, n_pools)  # per-tick chance to lose capacity
    up = rng.uniform(0.05, 0.3, n_pools)  # per-tick chance to get it back
    cap = np.empty((n_pools, n), dtype=np.int32)
    state = np.ones(n_pools, dtype=bool)
    draws = rng.random((n, n_pools))
    for t in range(n):
        state = np.where(state, draws[t] >= down, draws[t] < up)
        cap[:, t] = state
    regions = ["us-east-1", "us-east-2", "us-west-2", "eu-west-1", "ap-northeast-1"]
    pools = tuple(
        PoolInfo(
            regions[i % 5], f"{regions[i % 5]}{'abcdef'[(i // 5) % 6]}", f"type{i // 30}.xlarge"
        )
        for i in range(n_pools)
    )
    return MarketSeries(
        pools=pools,
        gap_seconds=GAP,
        t0=1_676_419_200.0,
        capacity=cap,
        spot_price=np.broadcast_to(np.full((n_pools, 1), 0.9), cap.shape),
        on_demand_price=np.full(n_pools, 3.06),
        advisor_band=np.full(n_pools, 2.0),
    )


def main() -> None:
    market = synthetic_market(POOLS, DAYS)
    small = MarketSeries(
        pools=market.pools[:20],
        gap_seconds=GAP,
        t0=market.t0,
        capacity=market.capacity[:20, : 10 * 86400 // GAP],
        spot_price=market.spot_price[:20, : 10 * 86400 // GAP],
        on_demand_price=market.on_demand_price[:20],
        advisor_band=market.advisor_band[:20],
    )
    settings = ModelSettings()
    model = train_model(small, settings=settings)
    now = market.t0 + (market.n_ticks - 1) * GAP
    nodes = tuple(
        FleetNode(str(i), market.pools[i * 7].name, now - 7200, now - 6900) for i in range(8)
    )
    times = []
    for _ in range(5):
        start = time.perf_counter()
        decided = decide(
            market,
            fleet=FleetDeclaration("bench", 10),
            nodes=nodes,
            now=now,
            model=model,
            model_settings=settings,
            planner_settings=PlannerSettings(),
            cold_start_s=300,
        )
        times.append(time.perf_counter() - start)
    print(
        f"decision for {POOLS} pools x {DAYS} days ({market.n_ticks} ticks each): "
        f"median {statistics.median(times):.3f} s, best {min(times):.3f} s "
        f"(target < 1 s); {len(decided.plan.actions)} actions"
    )


if __name__ == "__main__":
    main()
