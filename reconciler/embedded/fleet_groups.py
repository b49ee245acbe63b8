"""The declared fleet's groups in the local cloud, and the daemon's view of them.

As the stack declares and names them (``stacks.spec.fleet_groups``): one spot group per
candidate pool (an instance type in a subnet, so in a zone) and one on-demand group over every
type and zone in the declared order. The daemon's ``FleetTarget`` names the same groups, as
the stack's outputs would.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from analytics.pools import Pool
from reconciler.daemon.settings import FleetTarget
from reconciler.embedded.autoscaling import LocalAutoScalingGroup
from reconciler.embedded.cloud import LocalCloud
from reconciler.embedded.local_aws import FleetEndpoints
from stacks.spec import FleetSpec, fleet_groups

__all__ = ["LocalFleet", "local_fleet"]


@dataclass(frozen=True)
class LocalFleet:
    target: FleetTarget
    groups: tuple[LocalAutoScalingGroup, ...]


def local_fleet(
    spec: FleetSpec,
    *,
    prefix: str,
    region: str,
    zone_of_subnet: Mapping[str, str],
    cloud: LocalCloud,
    endpoints: FleetEndpoints,
    on_demand_prices: Mapping[str, float],
    nodes: int | None = None,
) -> LocalFleet:
    """``nodes``: the demo's --nodes, which sets min to it and max to twice it."""
    unknown = [s for s in spec.subnet_ids if s not in zone_of_subnet]
    if unknown:
        raise ValueError(f"fleet {spec.name}: no zone for subnets {', '.join(unknown)}")
    low, high = (nodes, 2 * nodes) if nodes is not None else (spec.min_nodes, spec.max_nodes)
    zones = [zone_of_subnet[s] for s in spec.subnet_ids]
    subnet_of = {zone_of_subnet[s]: s for s in spec.subnet_ids}
    pools = [Pool(region, zone, itype) for zone in zones for itype in spec.instance_types]
    names = fleet_groups(spec, prefix)
    spot = {
        p: LocalAutoScalingGroup(
            name=names.of_pool(p.instance_type, subnet_of[p.zone]).group_name,
            pools=(p,),
            lifecycle="spot",
            max_size=high,
            cloud=cloud,
        )
        for p in pools
    }
    # On-demand: the declared type order first, then the zones (AWS's prioritized strategy).
    on_demand_order = tuple(
        Pool(region, zone, itype) for itype in spec.instance_types for zone in zones
    )
    on_demand = LocalAutoScalingGroup(
        name=names.on_demand_group,
        pools=on_demand_order,
        lifecycle="on-demand",
        max_size=high,
        cloud=cloud,
    )
    target = FleetTarget(
        name=spec.name,
        region=region,
        instance_types=spec.instance_types,
        subnets={zone: subnet for subnet, zone in zone_of_subnet.items()},
        min_nodes=low,
        max_nodes=high,
        on_demand_floor=spec.on_demand_base,
        budget_usd_per_hour=spec.budget_usd_per_hour,
        idle_to_zero_s=(
            spec.idle_scale_to_zero_minutes * 60.0
            if spec.idle_scale_to_zero_minutes is not None
            else None
        ),
        spot_groups={p.name: g.name for p, g in spot.items()},
        on_demand_group=on_demand.name,
        interruption_queue_url=endpoints.interruption_queue_url,
        job_events_queue_url=endpoints.events_queue_url,
        job_queue_urls=endpoints.job_queue_urls,
        on_demand_prices={
            t: on_demand_prices[t] for t in spec.instance_types if t in on_demand_prices
        },
    )
    return LocalFleet(target, (*spot.values(), on_demand))
