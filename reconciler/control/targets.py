"""From the actions that go ahead to what each group must hold: a pure function."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from analytics.pools import Pool
from reconciler.control.types import GroupTargets, HeldNode
from reconciler.planner import Action, Drain, LaunchOnDemand, LaunchSpot

__all__ = ["group_targets"]


def group_targets(actions: Iterable[Action], nodes: Iterable[HeldNode]) -> GroupTargets:
    """Counts per group once the drains are gone and the launches are in.

    A warned node is drained too: AWS takes it anyway, and its group must not launch its
    replacement into the pool that is being reclaimed; the plan put that replacement where
    it chose (the controller plans without warned nodes).
    """
    spot: Counter[Pool] = Counter()
    on_demand = 0
    drain: list[str] = []
    kept = {n.instance_id: n for n in nodes}
    for node in kept.values():
        if node.warned:
            drain.append(node.instance_id)
    planned_drains = set()
    for action in actions:
        if isinstance(action, Drain) and action.node_id in kept:
            planned_drains.add(action.node_id)
            if action.node_id not in drain:
                drain.append(action.node_id)
    for node in kept.values():
        if node.warned or node.instance_id in planned_drains:
            continue
        if node.pool is None:
            on_demand += 1
        else:
            spot[node.pool] += 1
    for action in actions:
        if isinstance(action, LaunchSpot):
            spot[Pool.parse(action.pool)] += 1
        elif isinstance(action, LaunchOnDemand):
            on_demand += 1
    return GroupTargets(spot=dict(spot), on_demand=on_demand, drain=tuple(drain))
