"""One reconcile of one fleet, the same in the daemon, the embedded default and the backtest.

plan (without the warned nodes, which AWS is taking) → the guards on the whole plan → the
groups' targets → the executor. A launch the cloud refuses marks its pool unavailable for a
while (Karpenter's unavailable-offerings cache) and the plan is redone at once, within the
same reconcile, without that pool: another pool, else on-demand.

The loop holds no I/O of its own: the caller brings the planner (a pure function of the
pools made unavailable and the nodes), the guards' state and the executor.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from reconciler.control.guards import GuardState, Limits, Verdict, check_plan
from reconciler.control.targets import group_targets
from reconciler.control.types import ExecResult, GroupsExecutor, GroupTargets, HeldNode
from reconciler.decide.planner import FleetNode, Plan, Snapshot

__all__ = ["Outcome", "Replan", "Round", "fleet_nodes", "reconcile_fleet", "restricted"]

# A plan redone this many times in one reconcile has tried every pool that refused it.
MAX_ROUNDS = 4

Replan = Callable[[frozenset[str], tuple[FleetNode, ...]], Plan]


@dataclass(frozen=True)
class Round:
    plan: Plan
    verdict: Verdict
    targets: GroupTargets
    result: ExecResult | None  # None: nothing was applied (shadow, lease lost)
    # Without a result, what the groups would have held had the plan been applied.


@dataclass(frozen=True)
class Outcome:
    rounds: tuple[Round, ...]
    unavailable: Mapping[str, float]  # pool name -> until (epoch s), after this reconcile

    @property
    def last(self) -> Round:
        return self.rounds[-1]

    @property
    def applied(self) -> bool:
        return any(r.result is not None for r in self.rounds)


def fleet_nodes(nodes: tuple[HeldNode, ...]) -> tuple[FleetNode, ...]:
    """The planner's view of the nodes that still serve."""
    return tuple(
        FleetNode(
            node_id=n.instance_id,
            pool=n.pool.name if n.pool is not None else None,
            launched_at=n.launched_at,
            ready_at=n.ready_at,
        )
        for n in nodes
        if not n.warned
    )


def restricted(
    snapshot: Snapshot, unavailable: frozenset[str], nodes: tuple[FleetNode, ...]
) -> Snapshot:
    """``snapshot`` with ``nodes`` and no free slot in an unavailable pool (its nodes stay)."""
    held = Counter(n.pool for n in nodes if n.pool is not None)
    pools = tuple(
        dataclasses.replace(p, capacity=min(p.capacity, held[p.name]))
        if p.name in unavailable
        else p
        for p in snapshot.pools
    )
    return dataclasses.replace(snapshot, pools=pools, nodes=nodes)


def reconcile_fleet(
    *,
    nodes: tuple[HeldNode, ...],
    state: GuardState,
    limits: Limits,
    replan: Replan,
    executor: GroupsExecutor,
    price_of: Mapping[str | None, float],
    unavailable: Mapping[str, float],
    unavailable_s: float,
) -> Outcome:
    now = state.now
    cache = {pool: until for pool, until in unavailable.items() if until > now}
    current = nodes
    rounds: list[Round] = []
    for _ in range(MAX_ROUNDS):
        serving = fleet_nodes(current)
        plan = replan(frozenset(cache), serving)
        held_cost = sum(price_of.get(n.pool, 0.0) for n in serving)
        verdict = check_plan(
            plan.actions, state, limits, held_usd_per_hour=held_cost, price_of=price_of
        )
        if not verdict.acts:
            # Nothing is applied; the record says what the groups would have held.
            rounds.append(Round(plan, verdict, group_targets(plan.actions, current), None))
            break
        targets = group_targets(verdict.allowed, current)
        result = executor.apply(targets, now=now)
        rounds.append(Round(plan, verdict, targets, result))
        refused = {f.pool.name for f in result.failures if f.pool is not None}
        fresh = refused - set(cache)
        for pool in refused:
            cache[pool] = now + unavailable_s
        if not fresh:
            break
        gone = set(targets.drain)
        current = (*(n for n in current if n.instance_id not in gone), *result.launched)
    return Outcome(tuple(rounds), cache)
