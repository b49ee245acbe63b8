"""The peer policies of REPLAY.md ("what a user would run instead"), named exactly so.

``spothedge+N`` (SkyServe's SpotHedge), ``karpenter`` (its spot handling) and
``asg_capacity_optimized`` (one spot Auto Scaling group), each read to the letter:

- "Cheapest" is the lowest spot $/h; ties go to the pool holding fewest of the policy's
  nodes (this tick's launches counted), then first by name.
- A policy *lost nodes in pool p* at tick t when, at observation, it holds fewer spot nodes
  in p than it held there after its decision at t - 1, launches included. Every launch a
  peer asks for goes into a pool with a free slot at that tick, so the engine grants each
  one: what the policy held after its decision is what it kept plus what it asked for.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from reconciler.replay.types import Decision, Node, Observation, ReplaySetup

__all__ = [
    "PEER_NAMES",
    "AsgCapacityOptimized",
    "Karpenter",
    "SpotHedge",
    "peer_policy",
]

PEER_NAMES = ("spothedge+0", "spothedge+1", "spothedge+2", "karpenter", "asg_capacity_optimized")

# Karpenter keeps an interrupted offering in its unavailable-offerings cache this long.
KARPENTER_UNAVAILABLE_S = 180.0


class _Pools:
    """This tick's view of the pools: capacity, the policy's spot nodes per pool, prices.

    ``held`` starts at the observation and grows with each launch the policy plans, so
    "a free slot" and "fewest held" always count this tick's launches.
    """

    def __init__(self, obs: Observation, spot_price: Sequence[float]) -> None:
        self.capacity = [int(c) for c in obs.history[:, -1]]
        self.held = spot_counts(obs.nodes, len(self.capacity))
        self.price = spot_price

    def free(self, p: int) -> bool:
        return self.held[p] < self.capacity[p]

    def free_slots(self, p: int) -> int:
        return self.capacity[p] - self.held[p]

    def cheapest(self, candidates: Sequence[int]) -> int | None:
        """The cheapest of ``candidates`` that has a free slot (ties: fewest held, then name)."""
        open_pools = [p for p in candidates if self.free(p)]
        if not open_pools:
            return None
        # Pools are ordered by name, so the index breaks the last tie by name.
        return min(open_pools, key=lambda p: (self.price[p], self.held[p], p))

    def launch(self, p: int) -> int:
        self.held[p] += 1
        return p


def spot_counts(nodes: Sequence[Node], n_pools: int) -> list[int]:
    counts = [0] * n_pools
    for node in nodes:
        if node.pool is not None:
            counts[node.pool] += 1
    return counts


def lost_pools(before: Sequence[int] | None, now: Sequence[int]) -> list[int]:
    """Pools holding fewer of the policy's spot nodes now than after its last decision."""
    if before is None:
        return []
    return [p for p, (b, n) in enumerate(zip(before, now, strict=True)) if n < b]


def held_after(pools: _Pools, terminated: Sequence[Node]) -> list[int]:
    """Spot nodes per pool once the decision is carried out (launches in, terminations out)."""
    after = list(pools.held)
    for node in terminated:
        if node.pool is not None:
            after[node.pool] -= 1
    return after


def _newest_first(nodes: Sequence[Node]) -> list[Node]:
    # Node ids grow with launch order (same tick: later in that tick's order is higher).
    return sorted(nodes, key=lambda n: (n.launch_tick, n.node_id), reverse=True)


def _ready_spot(obs: Observation) -> int:
    return sum(1 for n in obs.nodes if n.pool is not None and n.ready(obs.tick))


class SpotHedge:
    """SpotHedge (SkyServe, EuroSys'25): spread over ACTIVE pools, N spare spot nodes, and
    on-demand for what ready spot lacks (dynamic fallback)."""

    def __init__(self, overprovision: int) -> None:
        if overprovision < 0:
            raise ValueError(f"spothedge+N needs N >= 0, got {overprovision}")
        self.overprovision = overprovision
        self.name = f"spothedge+{overprovision}"

    def reset(self, setup: ReplaySetup) -> None:
        n_pools = len(setup.market.pools)
        self._price = [float(p) for p in setup.market.spot_price[:, -1]]
        self._active = [True] * n_pools  # every pool is ACTIVE at the first scored tick
        self._held_after: list[int] | None = None

    @property
    def active(self) -> tuple[bool, ...]:
        return tuple(self._active)

    def decide(self, obs: Observation) -> Decision:
        pools = _Pools(obs, self._price)
        for p in lost_pools(self._held_after, pools.held):
            self._active[p] = False
        if sum(self._active) < 2:
            self._active = [True] * len(self._active)
        everything = range(len(pools.capacity))
        active = [p for p in everything if self._active[p]]

        launches: list[int | None] = []
        spot_held = sum(pools.held)
        while spot_held < obs.k + self.overprovision:
            empty_active = [p for p in active if pools.held[p] == 0]
            pick = pools.cheapest(empty_active)
            if pick is None:
                pick = pools.cheapest(active)
            if pick is None:
                pick = pools.cheapest(everything)
            if pick is None:
                break  # no pool has a free slot
            launches.append(pools.launch(pick))
            spot_held += 1

        # Dynamic on-demand fallback: exactly what ready spot lacks of K.
        target = max(0, obs.k - _ready_spot(obs))
        on_demand = [n for n in obs.nodes if n.pool is None]
        terminate = _newest_first(on_demand)[: max(0, len(on_demand) - target)]
        launches += [None] * max(0, target - len(on_demand))
        self._held_after = held_after(pools, terminate)
        return Decision(terminate=tuple(n.node_id for n in terminate), launches=tuple(launches))


class Karpenter:
    """Karpenter's spot handling: the cheapest available offering, an interrupted one
    unavailable for 3 minutes, on-demand when no spot is available, consolidation back."""

    name = "karpenter"

    def reset(self, setup: ReplaySetup) -> None:
        n_pools = len(setup.market.pools)
        self._price = [float(p) for p in setup.market.spot_price[:, -1]]
        self._unavailable_ticks = math.ceil(KARPENTER_UNAVAILABLE_S / setup.market.gap_seconds)
        # A pool is unavailable at every tick before this one (its cache entry's expiry).
        self._available_from = [setup.start] * n_pools
        self._held_after: list[int] | None = None

    def available(self, p: int, tick: int) -> bool:
        return tick >= self._available_from[p]

    def decide(self, obs: Observation) -> Decision:
        t = obs.tick
        pools = _Pools(obs, self._price)
        for p in lost_pools(self._held_after, pools.held):
            # Unavailable for the next ceil(180 / gap) ticks, counting from this one.
            self._available_from[p] = max(self._available_from[p], t + self._unavailable_ticks)
        available = [p for p in range(len(pools.capacity)) if self.available(p, t)]
        on_demand = [n for n in obs.nodes if n.pool is None]

        launches: list[int | None] = []
        missing = obs.k - sum(pools.held) - len(on_demand)
        for _ in range(max(0, missing)):
            pick = pools.cheapest(available)
            launches.append(pools.launch(pick) if pick is not None else None)
        # Holding on-demand: also bring spot back up to K wherever it is available. (An
        # on-demand launch of this tick changes nothing here: it was launched because no
        # available pool had a free slot.)
        if on_demand:
            while sum(pools.held) < obs.k:
                pick = pools.cheapest(available)
                if pick is None:
                    break
                launches.append(pools.launch(pick))
        # Consolidation: once K spot nodes are ready, every on-demand node goes.
        terminate = on_demand if _ready_spot(obs) >= obs.k else []
        self._held_after = held_after(pools, terminate)
        return Decision(terminate=tuple(n.node_id for n in terminate), launches=tuple(launches))


class AsgCapacityOptimized:
    """One spot Auto Scaling group, capacity-optimized: refill to K into the pool with the
    most free slots (ties: fewest held, then name). Never on-demand."""

    name = "asg_capacity_optimized"

    def reset(self, setup: ReplaySetup) -> None:
        self._price = [float(p) for p in setup.market.spot_price[:, -1]]

    def decide(self, obs: Observation) -> Decision:
        pools = _Pools(obs, self._price)
        launches: list[int | None] = []
        while sum(pools.held) < obs.k:
            open_pools = [p for p in range(len(pools.capacity)) if pools.free(p)]
            if not open_pools:
                break
            pick = min(open_pools, key=lambda p: (-pools.free_slots(p), pools.held[p], p))
            launches.append(pools.launch(pick))
        return Decision(launches=tuple(launches))


def peer_policy(name: str) -> SpotHedge | Karpenter | AsgCapacityOptimized:
    """The peer named ``name`` (one of ``PEER_NAMES``)."""
    if name.startswith("spothedge+") and name in PEER_NAMES:
        return SpotHedge(int(name.removeprefix("spothedge+")))
    if name == "karpenter":
        return Karpenter()
    if name == "asg_capacity_optimized":
        return AsgCapacityOptimized()
    raise ValueError(f"unknown peer {name!r}; choose from {', '.join(PEER_NAMES)}")
