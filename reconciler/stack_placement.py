"""A plan's placement as the ``spotfleet:placements`` JSON a user pastes into stack config.

One Auto Scaling group lives in one region, so a placement never mixes regions: a plan
that spans regions becomes one fleet placement per region (``<fleet>-<region>``), pools
in the planner's priority order, the on-demand base in the region where the planner
launches on-demand. Keys and shapes are ``stacks/spec.py``'s (camelCase); ``weight`` is
the group's capacity weight of the instance type (1: one node counts as one).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from reconciler.planner import Plan

__all__ = ["StackPlacement", "StackPool", "stack_placements"]


@dataclass(frozen=True, slots=True)
class StackPool:
    instance_type: str
    subnet_id: str


@dataclass(frozen=True)
class StackPlacement:
    """One fleet's ``spotfleet:placements`` entry."""

    pools: tuple[StackPool, ...]
    on_demand_base: int
    decision_id: str
    reason: str

    def as_config(self) -> dict[str, object]:
        return {
            "pools": [
                {"instanceType": p.instance_type, "subnetId": p.subnet_id, "weight": 1}
                for p in self.pools
            ],
            "onDemandBase": self.on_demand_base,
            "decisionId": self.decision_id,
            "reason": self.reason,
        }


def placeholder_subnet(zone: str) -> str:
    return f"<subnet in {zone}>"


def stack_placements(
    result: Plan,
    *,
    fleet: str,
    subnets: Mapping[str, str],
    on_demand_region: str | None,
) -> dict[str, StackPlacement]:
    """``{"<fleet>-<region>": placement}``; zones without a subnet get a placeholder to fill."""
    by_region: dict[str, list[StackPool]] = {}
    ordered = sorted(result.placement.pools, key=lambda pp: pp.priority)
    names = [pp.pool for pp in ordered]
    if on_demand_region is not None and result.placement.on_demand_base > 0:
        # The on-demand region's group needs a subnet even where the plan holds no spot.
        names += [v.pool for v in result.verdicts if v.pool.startswith(f"{on_demand_region}/")]
    for name in names:
        region, zone, instance_type = name.split("/", 2)
        pool = StackPool(instance_type, subnets.get(zone, placeholder_subnet(zone)))
        if pool not in by_region.setdefault(region, []):
            by_region[region].append(pool)
    return {
        f"{fleet}-{region}": StackPlacement(
            pools=tuple(pools),
            on_demand_base=result.placement.on_demand_base if region == on_demand_region else 0,
            decision_id=result.decision_id,
            reason=result.placement.reason[:500],
        )
        for region, pools in by_region.items()
    }
