"""From the actions that go ahead to what each group must hold: a pure function."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from analytics.pools import Pool
from reconciler.control.types import GroupTargets, HeldNode
from reconciler.decide.planner import Action, Drain, LaunchOnDemand, LaunchSpot

__all__ = ["group_targets"]


def group_targets(actions: Iterable[Action], nodes: Iterable[HeldNode]) -> GroupTargets:
    """Counts per group once the drains are gone and the launches are in.

    A warned node is drained too: AWS takes it anyway, and its group must not launch its
    replacement into the pool that is being reclaimed; the plan put that replacement where
    it chose (the controller plans without warned nodes).
    """
    planned = tuple(actions)
    held = {n.instance_id: n for n in nodes}
    drain = [n.instance_id for n in held.values() if n.warned]
    drain += [
        a.node_id
        for a in planned
        if isinstance(a, Drain) and a.node_id in held and a.node_id not in drain
    ]
    gone = set(drain)
    staying = [n for i, n in held.items() if i not in gone]
    spot = Counter(n.pool for n in staying if n.pool is not None)
    spot.update(Pool.parse(a.pool) for a in planned if isinstance(a, LaunchSpot))
    on_demand = sum(1 for n in staying if n.pool is None)
    on_demand += sum(1 for a in planned if isinstance(a, LaunchOnDemand))
    return GroupTargets(spot=dict(spot), on_demand=on_demand, drain=tuple(drain))
