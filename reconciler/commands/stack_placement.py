"""A plan's placement as the ``spotfleet:placements`` JSON a user pastes into stack config.

A fleet lives in one region, so a placement never mixes regions: a plan that spans regions
becomes one fleet placement per region (``<fleet>-<region>``), each pool with the nodes the
plan puts there, the on-demand nodes in the region where the planner launches on-demand.
Each is a ``stacks.spec.Placement``, so it is exactly what the stack's preview accepts.
"""

from __future__ import annotations

from collections.abc import Mapping

from analytics.pools import Pool
from reconciler.decide.planner import Plan
from stacks.spec import Placement, PoolCount

__all__ = ["placeholder_subnet", "stack_placements"]


def placeholder_subnet(zone: str) -> str:
    return f"<subnet in {zone}>"


def stack_placements(
    result: Plan,
    *,
    fleet: str,
    subnets: Mapping[str, str],
    on_demand_region: str | None,
) -> dict[str, Placement]:
    """``{"<fleet>-<region>": placement}``; zones without a subnet get a placeholder to fill."""
    by_region: dict[str, list[PoolCount]] = {}
    for planned in sorted(result.placement.pools, key=lambda pp: pp.priority):
        if planned.weight <= 0:
            continue
        pool = Pool.parse(planned.pool)
        by_region.setdefault(pool.region, []).append(
            PoolCount(
                instance_type=pool.instance_type,
                subnet_id=subnets.get(pool.zone, placeholder_subnet(pool.zone)),
                nodes=planned.weight,
            )
        )
    on_demand = result.placement.on_demand_base
    if on_demand_region is not None and on_demand > 0:
        by_region.setdefault(on_demand_region, [])
    return {
        f"{fleet}-{region}": Placement(
            pools=tuple(pools),
            on_demand=on_demand if region == on_demand_region else 0,
            decision_id=result.decision_id,
            reason=result.placement.reason[:500],
        )
        for region, pools in by_region.items()
    }
