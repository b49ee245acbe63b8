"""The declared fleet's groups in the local cloud, and the daemon's view of them.

As the stack declares and names them (``stacks.spec.fleet_groups``): one spot group per
candidate pool (an instance type in a subnet, so in a zone) and one on-demand group over every
type and zone in the declared order. The daemon's ``FleetTarget`` is built as it is from a
real stack (``reconciler.daemon.stack_fleets.fleet_target``): the declaration and its groups.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from analytics.pools import Pool
from reconciler.core.settings import FleetTarget
from reconciler.daemon.stack_fleets import FleetQueues, fleet_target, node_bounds
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
    _, high = node_bounds(spec, nodes)
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
    target = fleet_target(
        spec,
        region=region,
        zone_of_subnet=zone_of_subnet,
        groups=names,
        queues=FleetQueues(
            interruption_queue_url=endpoints.interruption_queue_url,
            job_events_queue_url=endpoints.events_queue_url,
            job_queue_urls=endpoints.job_queue_urls,
        ),
        on_demand_prices=on_demand_prices,
        nodes=nodes,
    )
    return LocalFleet(target, (*spot.values(), on_demand))
