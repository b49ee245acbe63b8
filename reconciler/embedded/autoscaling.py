"""An Auto Scaling group over the local EC2, for the embedded default.

It takes what the daemon gives a real group (the placement, through the same stack contract,
and the desired capacity) and behaves as AWS's does with them, so the demo does not flatter
the planner: one mixed-instances group cannot tie a type to a subnet, so a placement is read
as the types in priority order and a set of subnets (its pools' first appearances,
``_Priorities``); launches balance across zones, and within a zone take the highest-priority
type with capacity (capacity-optimized-prioritized); an
instance whose type or zone the placement no longer allows is replaced launch-before-terminate,
one at a time (instance refresh at 100 % minimum healthy); scale-in picks disallowed instances
first, then the zone with the most, newest first.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from analytics.pools import Pool
from reconciler.actuate.base import Applied
from reconciler.embedded.cloud import Instance, InsufficientCapacity, LocalCloud
from stacks.spec import FleetSpec, Placement, parse_placement

__all__ = ["Activity", "LocalAutoScalingGroup"]


@dataclass
class Activity:
    """What one pass of the group did; the caller starts and stops the node processes."""

    launched: list[Instance] = field(default_factory=list)
    terminated: list[Instance] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Priorities:
    """A placement as this one mixed-instances group can take it (the stack now runs one group
    per pool; this local group is the demo's until it follows them)."""

    instance_types: tuple[str, ...]
    subnet_ids: tuple[str, ...]
    on_demand_base: int


def _priorities(fleet: FleetSpec, placement: Placement | None) -> _Priorities:
    if placement is None or not placement.pools:
        on_demand = fleet.on_demand_base if placement is None else placement.on_demand
        return _Priorities(fleet.instance_types, fleet.subnet_ids, on_demand)
    return _Priorities(
        tuple(dict.fromkeys(p.instance_type for p in placement.pools)),
        tuple(dict.fromkeys(p.subnet_id for p in placement.pools)),
        placement.on_demand,
    )


class LocalAutoScalingGroup:
    def __init__(
        self,
        *,
        name: str,
        fleet: FleetSpec,
        region: str,
        zone_of_subnet: Mapping[str, str],
        cloud: LocalCloud,
    ) -> None:
        unknown = [s for s in fleet.subnet_ids if s not in zone_of_subnet]
        if unknown:
            raise ValueError(f"fleet {fleet.name}: no zone for subnets {', '.join(unknown)}")
        self.name, self.fleet, self.region = name, fleet, region
        self._zone_of_subnet, self._cloud = dict(zone_of_subnet), cloud
        self.resolved = _priorities(fleet, None)
        self.desired = fleet.min_nodes
        self._members: list[str] = []

    # The stack actuator's side: what `pulumi up` would do to the group's configuration.
    def apply(self, fleet: str, placement: dict[str, Any]) -> Applied:
        self.resolved = _priorities(self.fleet, parse_placement(self.fleet, placement))
        types = ", ".join(self.resolved.instance_types)
        zones = ", ".join(self._zone_of_subnet[s] for s in self.resolved.subnet_ids)
        return Applied(
            changed=True,
            summary=f"local group {self.name}: types {types} in {zones}, "
            f"on-demand base {self.resolved.on_demand_base}",
        )

    # The scaler's side: SetDesiredCapacity, within the group's bounds as AWS enforces them.
    def set_desired(self, group: str, desired: int) -> None:
        if group != self.name:
            raise ValueError(f"no group {group!r} (this is {self.name!r})")
        self.desired = max(self.fleet.min_nodes, min(desired, self.fleet.max_nodes))

    def members(self) -> list[Instance]:
        return [self._cloud.instances[i] for i in self._members if self._cloud.instances[i].running]

    def _in_service(self) -> list[Instance]:
        """Members that count toward desired: a warned spot instance is on its way out."""
        return [i for i in self.members() if i.notice_deadline is None]

    def _allowed(self, instance: Instance) -> bool:
        types = set(self.resolved.instance_types)
        zones = {self._zone_of_subnet[s] for s in self.resolved.subnet_ids}
        return instance.pool.instance_type in types and instance.pool.zone in zones

    def _launch(self, now: datetime, activity: Activity) -> Instance | None:
        in_service = self._in_service()
        on_demand = sum(1 for i in in_service if i.lifecycle == "on-demand")
        lifecycle = "on-demand" if on_demand < self.resolved.on_demand_base else "spot"
        per_zone = Counter(i.pool.zone for i in in_service)
        zones = sorted(
            (self._zone_of_subnet[s] for s in self.resolved.subnet_ids),
            key=lambda z: per_zone[z],  # stable: ties keep the placement's subnet order
        )
        for zone in zones:
            for instance_type in self.resolved.instance_types:
                pool = Pool(self.region, zone, instance_type)
                try:
                    instance = self._cloud.launch(pool, lifecycle, now)
                except InsufficientCapacity:
                    continue
                self._members.append(instance.instance_id)
                activity.launched.append(instance)
                return instance
        types = ", ".join(self.resolved.instance_types)
        activity.failures.append(
            f"{self.name}: no {lifecycle} capacity in any allowed pool "
            f"(zones {', '.join(zones)}; types {types})"
        )
        return None

    def reconcile(self, now: datetime) -> Activity:
        """One pass: fill to desired, replace one disallowed instance, scale in the surplus."""
        activity = Activity()
        while len(self._in_service()) < self.desired:
            if self._launch(now, activity) is None:
                break
        disallowed = [i for i in self._in_service() if not self._allowed(i)]
        # Launch first, then retire: at most one replacement in flight (100 % healthy minimum).
        if (
            disallowed
            and len(self._in_service()) <= self.desired
            and self._launch(now, activity) is not None
        ):
            old = disallowed[0]
            activity.terminated.append(
                self._cloud.terminate(old.instance_id, now, "instance refresh")
            )
        surplus = len(self._in_service()) - self.desired
        if surplus > 0:
            per_zone = Counter(i.pool.zone for i in self._in_service())
            ranked = sorted(
                self._in_service(),
                key=lambda i: (self._allowed(i), -per_zone[i.pool.zone], -i.sequence),
            )
            for instance in ranked[:surplus]:
                activity.terminated.append(
                    self._cloud.terminate(instance.instance_id, now, "scale in")
                )
        return activity
