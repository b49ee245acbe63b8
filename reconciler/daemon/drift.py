"""Drift: a group whose desired capacity, as last observed, is not the placement in force.

The daemon sets the groups' counts itself and writes the placement back into the stack, so
drift means someone (a person, another tool, a stack update with an old placement) changed a
group; the next reconcile puts it back (its targets come from the nodes, not the counts).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.core.settings import FleetTarget

__all__ = ["drift"]


def drift(
    fleet: FleetTarget, placement: Mapping[str, Any] | None, observed: Mapping[str, int]
) -> tuple[str, ...]:
    """One line per group whose observed count differs from ``placement``'s (its JSON)."""
    if placement is None or not observed:
        return ()
    zone_of = {subnet: zone for zone, subnet in fleet.subnets.items()}
    placed = dict.fromkeys(fleet.groups(), 0)
    for entry in placement.get("pools", []):
        zone = zone_of.get(str(entry.get("subnetId")))
        group = fleet.spot_groups.get(f"{fleet.region}/{zone}/{entry.get('instanceType')}")
        if group is not None:
            placed[group] = int(entry.get("nodes", 0))
    placed[fleet.on_demand_group] = int(placement.get("onDemand", 0))
    return tuple(
        f"{group}: holds {observed[group]}, the placement in force says {count}"
        for group, count in placed.items()
        if group in observed and observed[group] != count
    )
