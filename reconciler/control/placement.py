"""What the groups hold, as the stack's placement: a pure function."""

from __future__ import annotations

from typing import Any

from reconciler.control.types import GroupTargets
from reconciler.core.settings import FleetTarget
from reconciler.decide.planner import Plan
from stacks.spec import Placement, PoolCount, placement_to_config

__all__ = ["to_stack_placement"]


def to_stack_placement(
    targets: GroupTargets, fleet: FleetTarget, decision_id: str, planned: Plan
) -> dict[str, Any]:
    """What the groups hold, as ``spotfleet:placements.<fleet>`` JSON: each candidate pool's
    node count (zone -> the fleet's subnet there) and the on-demand group's, validated by the
    stack's own contract (``stacks.spec.Placement``) in every mode, shadow included."""
    placement = Placement(
        pools=tuple(
            PoolCount(instance_type=pool.instance_type, subnet_id=fleet.subnets[pool.zone], nodes=n)
            for pool, n in sorted(targets.spot.items())
            if n > 0 and pool.zone in fleet.subnets and pool.name in fleet.spot_groups
        ),
        on_demand=targets.on_demand,
        decision_id=decision_id,
        reason=planned.placement.reason[:500],
    )
    return placement_to_config(placement)
