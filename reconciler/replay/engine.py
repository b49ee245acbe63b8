"""The replay engine: REPLAY.md's five steps per tick, and its outputs.

The engine holds the truth (every trace tick); a policy only ever receives an
``Observation`` whose history is cut at the current tick and made read-only.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from reconciler.core.errors import PolicyError, WindowError
from reconciler.core.market import MarketSeries
from reconciler.replay.types import Decision, Node, Observation, Policy, ReplaySetup

__all__ = ["ReplayResult", "TickRecord", "replay"]


@dataclass(frozen=True, slots=True)
class TickRecord:
    """One scored tick, for plots: nodes ready and held, and the tick's cost."""

    tick: int
    ready: int
    spot_held: int
    on_demand_held: int
    cost: float
    on_demand_value: float  # what the nodes held would cost on demand, each at its pool's price


@dataclass(frozen=True)
class ReplayResult:
    """REPLAY.md's output object for one policy, plus the per-tick record."""

    policy: str
    ticks: int
    cost: float
    cost_ratio: float
    availability: float
    mean_ready_fraction: float
    preemptions: int
    launch_failures: int
    launches: int
    on_demand_node_hours: float
    spot_node_hours: float
    timeline: tuple[TickRecord, ...] = ()

    def as_json(self) -> dict[str, object]:
        """Exactly REPLAY.md's keys, in its order."""
        return {
            "policy": self.policy,
            "ticks": self.ticks,
            "cost": self.cost,
            "cost_ratio": self.cost_ratio,
            "availability": self.availability,
            "mean_ready_fraction": self.mean_ready_fraction,
            "preemptions": self.preemptions,
            "launch_failures": self.launch_failures,
            "launches": self.launches,
            "on_demand_node_hours": self.on_demand_node_hours,
            "spot_node_hours": self.spot_node_hours,
        }


def ready_delay(cold_start_seconds: float, gap_seconds: int) -> int:
    return math.ceil(cold_start_seconds / gap_seconds)


def replay(
    policy: Policy,
    market: MarketSeries,
    *,
    k: int,
    start: int,
    end: int,
    cold_start_seconds: float = 300.0,
    on_tick: Callable[[int], None] | None = None,
) -> ReplayResult:
    """Score ``policy`` on ticks ``start .. end-1`` of ``market`` (REPLAY.md, to the letter)."""
    if not 0 <= start < end <= market.n_ticks:
        raise WindowError(
            f"window ticks {start}..{end} are outside the traces (0..{market.n_ticks})"
        )
    if k < 1:
        raise WindowError(f"K is {k}; the fleet must serve with at least one node")
    data = market.capacity
    gap = market.gap_seconds
    hours_per_tick = gap / 3600.0
    delay = ready_delay(cold_start_seconds, gap)
    # Spot price of the first tick of a pool stands for the replay: REPLAY.md prices are per zone.
    spot_price = [float(market.spot_price[p, 0]) for p in range(len(market.pools))]
    od_price = float(market.on_demand_price[0])
    od_price_of_pool = [float(price) for price in market.on_demand_price]
    # The policy learns names, prices and the history up to the first scored tick, nothing later.
    setup = ReplaySetup(
        market=market.prefix(start + 1), start=start, end=end, k=k, ready_delay=delay
    )
    policy.reset(setup)

    # Nodes in launch order: node ids grow with launch order, so "most recently launched
    # first" (same tick: later in that tick's order first) is simply the highest id first.
    nodes: dict[int, Node] = {}
    next_id = 0
    cost = 0.0
    served = 0
    ready_sum = 0.0
    preemptions = launch_failures = launches = 0
    od_ticks = spot_ticks = 0
    timeline: list[TickRecord] = []

    for t in range(start, end):
        # 1. Preemption.
        held_by_pool: dict[int, list[int]] = {}
        for node in nodes.values():
            if node.pool is not None:
                held_by_pool.setdefault(node.pool, []).append(node.node_id)
        for p, ids in held_by_pool.items():
            excess = len(ids) - int(data[p, t])
            if excess > 0:
                for node_id in sorted(ids, reverse=True)[:excess]:
                    del nodes[node_id]
                    preemptions += 1

        # 2. Observation.
        history = data[:, : t + 1]
        history.flags.writeable = False
        obs = Observation(tick=t, history=history, nodes=tuple(nodes.values()), k=k)

        # 3. Decision.
        decision: Decision = policy.decide(obs)

        # 4. Launch: terminations first, then launches in order.
        for node_id in decision.terminate:
            if node_id not in nodes:
                raise PolicyError(
                    f"policy {policy.name!r} terminated node {node_id} at tick {t}, which it "
                    "does not hold; terminate only ids from the observation's nodes"
                )
            del nodes[node_id]
        counts = [0] * len(market.pools)
        for node in nodes.values():
            if node.pool is not None:
                counts[node.pool] += 1
        for target in decision.launches:
            if target is not None:
                if not 0 <= target < len(counts):
                    raise PolicyError(
                        f"policy {policy.name!r} launched into pool {target}, which does not exist"
                    )
                if counts[target] >= int(data[target, t]):
                    launch_failures += 1
                    continue
                counts[target] += 1
            nodes[next_id] = Node(next_id, target, t, t + delay)
            next_id += 1
            launches += 1

        # 5. Accounting.
        tick_cost = on_demand_value = 0.0
        ready = spot_held = od_held = 0
        for node in nodes.values():
            if node.pool is None:
                od_held += 1
                tick_cost += od_price * hours_per_tick
                on_demand_value += od_price * hours_per_tick
            else:
                spot_held += 1
                tick_cost += spot_price[node.pool] * hours_per_tick
                on_demand_value += od_price_of_pool[node.pool] * hours_per_tick
            if node.ready_tick <= t:
                ready += 1
        cost += tick_cost
        od_ticks += od_held
        spot_ticks += spot_held
        if ready >= k:
            served += 1
        ready_sum += min(ready, k) / k
        timeline.append(TickRecord(t, ready, spot_held, od_held, tick_cost, on_demand_value))
        if on_tick is not None:
            on_tick(t)

    n = end - start
    baseline = k * od_price * hours_per_tick * n
    return ReplayResult(
        policy=policy.name,
        ticks=n,
        cost=cost,
        cost_ratio=cost / baseline,
        availability=served / n,
        mean_ready_fraction=ready_sum / n,
        preemptions=preemptions,
        launch_failures=launch_failures,
        launches=launches,
        on_demand_node_hours=od_ticks * hours_per_tick,
        spot_node_hours=spot_ticks * hours_per_tick,
        timeline=tuple(timeline),
    )
