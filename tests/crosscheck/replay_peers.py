"""REPLAY.md's peer policies, written again from the text alone for the crosscheck.

Plain Python over ``replay_reference``'s Replay and Fleet; nothing shared with
``reconciler``. "Held after its decision at t - 1" is read here from the fleet itself
after step 4 (the engine's truth), where the backtest's policies work it out from their
own decisions: the two must agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .replay_reference import Fleet, Node, Replay

PEERS = ("spothedge+0", "spothedge+1", "spothedge+2", "karpenter", "asg_capacity_optimized")


@dataclass
class Memory:
    """What a peer carries from one tick to the next."""

    after_last_step4: dict[str, int] | None = None  # spot nodes per pool after step 4 of t-1
    preempted: set[str] = field(default_factory=set)  # SpotHedge: pools not ACTIVE
    blocked_through: dict[str, int] = field(default_factory=dict)  # Karpenter: last blocked tick


def losses(replay: Replay, fleet: Fleet, memory: Memory) -> list[str]:
    if memory.after_last_step4 is None:
        return []
    return [p for p in replay.names if fleet.in_pool(p) < memory.after_last_step4[p]]


def cheapest(replay: Replay, pools: list[str], planned: dict[str, int], t: int) -> str | None:
    with_slot = [p for p in pools if planned[p] < replay.data[p][t]]
    if not with_slot:
        return None
    with_slot.sort(key=lambda p: (replay.spot[p], planned[p], replay.names.index(p)))
    return with_slot[0]


def newest(nodes: list[Node]) -> list[Node]:
    return sorted(nodes, key=lambda n: (n.launch_tick, n.order), reverse=True)


def spothedge(
    replay: Replay, n_extra: int, fleet: Fleet, t: int, memory: Memory
) -> tuple[list[Node], list[str | None]]:
    memory.preempted |= set(losses(replay, fleet, memory))
    if len([p for p in replay.names if p not in memory.preempted]) < 2:
        memory.preempted = set()
    active = [p for p in replay.names if p not in memory.preempted]
    planned = {p: fleet.in_pool(p) for p in replay.names}
    wanted: list[str | None] = []
    while sum(planned.values()) < replay.k + n_extra:
        pool = (
            cheapest(replay, [p for p in active if planned[p] == 0], planned, t)
            or cheapest(replay, active, planned, t)
            or cheapest(replay, list(replay.names), planned, t)
        )
        if pool is None:
            break
        wanted.append(pool)
        planned[pool] += 1
    ready_spot = sum(1 for n in fleet.spot() if n.ready_tick <= t)
    hold = max(0, replay.k - ready_spot)
    on_demand = fleet.on_demand()
    wanted += [None] * max(0, hold - len(on_demand))
    return newest(on_demand)[: max(0, len(on_demand) - hold)], wanted


def karpenter(
    replay: Replay, fleet: Fleet, t: int, memory: Memory
) -> tuple[list[Node], list[str | None]]:
    span = math.ceil(180 / replay.gap)
    for pool in losses(replay, fleet, memory):
        memory.blocked_through[pool] = max(memory.blocked_through.get(pool, -1), t + span - 1)
    open_pools = [p for p in replay.names if memory.blocked_through.get(p, -1) < t]
    planned = {p: fleet.in_pool(p) for p in replay.names}
    on_demand = fleet.on_demand()
    wanted: list[str | None] = []
    for _ in range(replay.k - len(fleet.spot()) - len(on_demand)):
        spot = cheapest(replay, open_pools, planned, t)
        wanted.append(spot)
        if spot is not None:
            planned[spot] += 1
    if on_demand:
        while sum(planned.values()) < replay.k:
            more = cheapest(replay, open_pools, planned, t)
            if more is None:
                break
            wanted.append(more)
            planned[more] += 1
    ready_spot = sum(1 for n in fleet.spot() if n.ready_tick <= t)
    return (on_demand if ready_spot >= replay.k else []), wanted


def capacity_optimized(replay: Replay, fleet: Fleet, t: int) -> list[str | None]:
    planned = {p: fleet.in_pool(p) for p in replay.names}
    wanted: list[str | None] = []
    while sum(planned.values()) < replay.k:
        room = {p: replay.data[p][t] - planned[p] for p in replay.names}
        candidates = [p for p in replay.names if room[p] > 0]
        if not candidates:
            break
        pool = sorted(candidates, key=lambda p: (-room[p], planned[p], replay.names.index(p)))[0]
        wanted.append(pool)
        planned[pool] += 1
    return wanted


def decide_peer(
    replay: Replay, policy: str, fleet: Fleet, t: int, memory: Memory
) -> tuple[list[Node], list[str | None]]:
    if policy.startswith("spothedge+"):
        return spothedge(replay, int(policy[len("spothedge+") :]), fleet, t, memory)
    if policy == "karpenter":
        return karpenter(replay, fleet, t, memory)
    assert policy == "asg_capacity_optimized", policy
    return [], capacity_optimized(replay, fleet, t)
