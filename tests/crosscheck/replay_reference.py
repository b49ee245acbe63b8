"""An independent implementation of ../shared/REPLAY.md, for checking the backtest's figures.

Written from the rules text alone, deliberately plain (no numpy, no code shared with
``reconciler``), so that agreement between the two means something.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from .replay_peers import PEERS, Memory, decide_peer


@dataclass
class Node:
    pool: str | None  # None: on-demand
    launch_tick: int
    order: int  # position among this tick's launches
    ready_tick: int


@dataclass
class Replay:
    names: list[str]
    data: dict[str, list[int]]
    gap: int
    spot: dict[str, float]
    on_demand: float
    k: int
    start: int
    end: int
    cold_ticks: int
    seen: dict[str, list[int]] = field(default_factory=dict)  # ticks with capacity in 0..t

    def __post_init__(self) -> None:
        for name, values in self.data.items():
            running, total = [], 0
            for value in values:
                total += value > 0
                running.append(total)
            self.seen[name] = running


def load(
    folder: Path,
    prices: Path,
    *,
    k: int,
    start_day: float,
    end_day: float | None,
    accelerator: str | None = None,
    cold_start: float = 300,
) -> Replay:
    files = sorted(folder.glob("*.json"), key=lambda p: p.stem)
    tag = accelerator or files[0].stem.split("_", 1)[1]
    chosen = [p for p in files if p.stem.split("_", 1)[1] == tag]
    docs = {p.stem: json.loads(p.read_text()) for p in chosen}
    gap = docs[chosen[0].stem]["metadata"]["gap_seconds"]
    length = min(len(d["data"]) for d in docs.values())
    table = json.loads(prices.read_text())
    spot_default = table["accelerators"][tag]["spot"]
    spot = {}
    for name in docs:
        zone = name.split("_", 1)[0]
        spot[name] = table.get("zones", {}).get(zone, {}).get(tag, spot_default)
    start = min(math.floor(start_day * 86400 / gap), length)
    end = length if end_day is None else min(math.floor(end_day * 86400 / gap), length)
    return Replay(
        names=sorted(docs),
        data={n: d["data"][:length] for n, d in docs.items()},
        gap=gap,
        spot=spot,
        on_demand=table["accelerators"][tag]["on_demand"],
        k=k,
        start=start,
        end=end,
        cold_ticks=math.ceil(cold_start / gap),
    )


@dataclass
class Fleet:
    nodes: list[Node] = field(default_factory=list)

    def in_pool(self, pool: str) -> int:
        return sum(1 for n in self.nodes if n.pool == pool)

    def spot(self) -> list[Node]:
        return [n for n in self.nodes if n.pool is not None]

    def on_demand(self) -> list[Node]:
        return [n for n in self.nodes if n.pool is None]


def run(replay: Replay, policy: str) -> dict[str, object]:
    fleet = Fleet()
    memory = Memory()
    hour = replay.gap / 3600
    cost = od_hours = spot_hours = 0.0
    served = preemptions = failures = launches = 0
    ready_sum = 0.0
    for t in range(replay.start, replay.end):
        # 1. preemption
        for pool in replay.names:
            held = [n for n in fleet.nodes if n.pool == pool]
            excess = len(held) - replay.data[pool][t]
            if excess > 0:
                held.sort(key=lambda n: (n.launch_tick, n.order), reverse=True)
                for victim in held[:excess]:
                    fleet.nodes.remove(victim)
                    preemptions += 1
        # 2-3. observation and decision
        if policy in PEERS:
            terminate, wanted = decide_peer(replay, policy, fleet, t, memory)
        else:
            terminate, wanted = decide(replay, policy, fleet, t)
        # 4. terminations, then launches in order
        for node in terminate:
            fleet.nodes.remove(node)
        order = 0
        for target in wanted:
            if target is not None and fleet.in_pool(target) >= replay.data[target][t]:
                failures += 1
                continue
            fleet.nodes.append(Node(target, t, order, t + replay.cold_ticks))
            order += 1
            launches += 1
        memory.after_last_step4 = {p: fleet.in_pool(p) for p in replay.names}
        # 5. accounting
        for node in fleet.nodes:
            if node.pool is None:
                cost += replay.on_demand * hour
                od_hours += hour
            else:
                cost += replay.spot[node.pool] * hour
                spot_hours += hour
        ready = sum(1 for n in fleet.nodes if n.ready_tick <= t)
        served += ready >= replay.k
        ready_sum += min(ready, replay.k) / replay.k
    ticks = replay.end - replay.start
    return {
        "policy": policy,
        "ticks": ticks,
        "cost": cost,
        "cost_ratio": cost / (replay.k * replay.on_demand * ticks * hour),
        "availability": served / ticks,
        "mean_ready_fraction": ready_sum / ticks,
        "preemptions": preemptions,
        "launch_failures": failures,
        "launches": launches,
        "on_demand_node_hours": od_hours,
        "spot_node_hours": spot_hours,
    }


def decide(
    replay: Replay, policy: str, fleet: Fleet, t: int
) -> tuple[list[Node], list[str | None]]:
    if policy == "on_demand":
        return [], [None] * replay.k if t == replay.start else []
    planned: dict[str, int] = {p: fleet.in_pool(p) for p in replay.names}
    launches: list[str | None] = []

    def free(pool: str) -> bool:
        return planned[pool] < replay.data[pool][t]

    spot_held = len(fleet.spot())
    if policy == "single_pool":
        best = max(
            replay.names, key=lambda p: (replay.seen[p][t] / (t + 1), -replay.names.index(p))
        )
        while spot_held + len(launches) < replay.k and free(best):
            launches.append(best)
            planned[best] += 1
        return [], launches
    # even_spread, and the spot part of spread_with_fallback
    while spot_held + len(launches) < replay.k:
        open_pools = [p for p in replay.names if free(p)]
        if not open_pools:
            break
        pool = min(open_pools, key=lambda p: (planned[p], replay.names.index(p)))
        launches.append(pool)
        planned[pool] += 1
    if policy == "even_spread":
        return [], launches
    assert policy == "spread_with_fallback", policy
    spot_total = spot_held + len(launches)
    od_held = len(fleet.on_demand())
    while spot_total + od_held + launches.count(None) < replay.k:
        launches.append(None)
    ready_spot = sum(1 for n in fleet.spot() if n.ready_tick <= t)
    terminate = fleet.on_demand() if ready_spot >= replay.k else []
    return terminate, launches
