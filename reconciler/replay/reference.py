"""The four reference policies of REPLAY.md, named exactly so.

"A pool with a free slot" is one where the policy holds fewer nodes than ``data[p][t]``,
counting this tick's launches; no reference policy ever tries a launch without one.
"""

from __future__ import annotations

import numpy as np

from reconciler.replay.types import Decision, Observation, ReplaySetup

__all__ = [
    "EvenSpread",
    "OnDemand",
    "SinglePool",
    "SpreadWithFallback",
    "reference_policies",
]


def _spot_counts(obs: Observation) -> list[int]:
    counts = [0] * obs.history.shape[0]
    for node in obs.nodes:
        if node.pool is not None:
            counts[node.pool] += 1
    return counts


def _even_spread_launches(obs: Observation) -> list[int]:
    """Refill to K spot nodes, one at a time, into the free pool holding fewest (ties: by name)."""
    counts = _spot_counts(obs)
    capacity = obs.history[:, -1]
    held = sum(counts)
    launches: list[int] = []
    while held < obs.k:
        free = [p for p in range(len(counts)) if counts[p] < int(capacity[p])]
        if not free:
            break
        # Pools are ordered by name, so min() by (count, index) breaks ties by name.
        pool = min(free, key=lambda p: (counts[p], p))
        counts[pool] += 1
        held += 1
        launches.append(pool)
    return launches


class OnDemand:
    """K on-demand nodes launched at the first scored tick and held."""

    name = "on_demand"

    def reset(self, setup: ReplaySetup) -> None:
        self._start = setup.start

    def decide(self, obs: Observation) -> Decision:
        if obs.tick == self._start:
            return Decision(launches=(None,) * obs.k)
        return Decision()


class SinglePool:
    """Fill the pool with the highest mean of ``data[p][0..t] > 0`` to K spot nodes."""

    name = "single_pool"

    def reset(self, setup: ReplaySetup) -> None:
        n_pools = setup.market.capacity.shape[0]
        self._up = np.zeros(n_pools, dtype=np.int64)  # ticks with capacity, for the running mean
        self._seen = 0

    def decide(self, obs: Observation) -> Decision:
        # Running count of ticks with capacity, so a 30-day history costs O(new ticks) per tick.
        new = obs.history[:, self._seen :]
        self._up += (new > 0).sum(axis=1)
        self._seen = obs.history.shape[1]
        best = int(np.argmax(self._up))  # argmax returns the first maximum: ties by name
        counts = _spot_counts(obs)
        held = sum(counts)
        launches: list[int] = []
        while held < obs.k and counts[best] < int(obs.history[best, -1]):
            counts[best] += 1
            held += 1
            launches.append(best)
        return Decision(launches=tuple(launches))


class EvenSpread:
    """Refill to K spot nodes, spread evenly; never rebalances, never on-demand."""

    name = "even_spread"

    def reset(self, setup: ReplaySetup) -> None:
        pass

    def decide(self, obs: Observation) -> Decision:
        return Decision(launches=tuple(_even_spread_launches(obs)))


class SpreadWithFallback:
    """``even_spread``, on-demand to fill up to K, and no on-demand once K spot nodes are ready."""

    name = "spread_with_fallback"

    def reset(self, setup: ReplaySetup) -> None:
        pass

    def decide(self, obs: Observation) -> Decision:
        spot_launches = _even_spread_launches(obs)
        on_demand = [n for n in obs.nodes if n.pool is None]
        spot_held = sum(1 for n in obs.nodes if n.pool is not None) + len(spot_launches)
        ready_spot = sum(1 for n in obs.nodes if n.pool is not None and n.ready(obs.tick))
        if ready_spot >= obs.k:
            # Enough spot is serving: every on-demand node goes, and none is launched.
            return Decision(
                terminate=tuple(n.node_id for n in on_demand), launches=tuple(spot_launches)
            )
        missing = max(0, obs.k - spot_held - len(on_demand))
        return Decision(launches=(*spot_launches, *([None] * missing)))


def reference_policies() -> list[OnDemand | SinglePool | EvenSpread | SpreadWithFallback]:
    return [OnDemand(), SinglePool(), EvenSpread(), SpreadWithFallback()]
