"""EC2 and Auto Scaling as the daemon calls them, answered by the local EC2 and group.

The daemon reaches AWS through boto3 clients (``reconciler.core.aws.Clients``). In the
embedded default the SQS, SNS, EventBridge and S3 clients go to moto's server, but EC2's spot
market and the Auto Scaling group are the embedded default's own (moto has neither a spot
market nor capacity), so these two objects answer the few calls the daemon makes, with the
shapes and errors boto3 gives: ``DescribeSpotPriceHistory``, ``DescribeInstances``,
``GetSpotPlacementScores`` (moto has none; scored from the replay's free capacity, see
``reconciler.embedded.placement_scores``), ``DescribeAutoScalingGroups``,
``SetDesiredCapacity``, ``TerminateInstanceInAutoScalingGroup`` and
``DescribeScalingActivities``. They are the seam, not fakes of the daemon: everything
behind the calls is the daemon's real code. ``LocalStackActuator`` is the same seam for mode
``local``: the placement the daemon would give ``pulumi up``.

The local EC2 and group are not thread-safe; the daemon's jobs run on the scheduler's threads
and the market on the demo's loop, so every call holds ``LocalRegion.lock``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from reconciler.actuate.base import Applied
from reconciler.core.errors import ActuationError
from reconciler.core.settings import FleetTarget
from reconciler.embedded.autoscaling import LocalAutoScalingGroup
from reconciler.embedded.cloud import LocalCloud
from reconciler.embedded.placement_scores import local_zone_id, score_for

__all__ = ["LocalAutoScalingClient", "LocalEc2Client", "LocalRegion", "LocalStackActuator"]


@dataclass
class LocalRegion:
    """One region of the local cloud: its EC2, its groups, the market clock, one lock."""

    name: str
    cloud: LocalCloud
    groups: dict[str, LocalAutoScalingGroup]
    clock: Callable[[], datetime]
    lock: threading.RLock = field(default_factory=threading.RLock)


class _Paginator:
    """boto3's paginator, for calls answered in one page."""

    def __init__(self, call: Callable[..., dict[str, Any]]) -> None:
        self._call = call

    def paginate(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        yield self._call(**kwargs)


def _error(operation: str, code: str, message: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


class LocalEc2Client:
    def __init__(self, region: LocalRegion) -> None:
        self._region = region

    def get_paginator(self, operation: str) -> _Paginator:
        calls: Mapping[str, Callable[..., dict[str, Any]]] = {
            "describe_instances": self.describe_instances,
            "describe_spot_price_history": self.describe_spot_price_history,
        }
        if operation not in calls:
            raise NotImplementedError(f"the local EC2 does not answer {operation}")
        return _Paginator(calls[operation])

    def describe_instances(self, *, InstanceIds: list[str]) -> dict[str, Any]:
        with self._region.lock:
            instances = self._region.cloud.instances
            unknown = [i for i in InstanceIds if i not in instances]
            if unknown:
                raise _error(
                    "DescribeInstances",
                    "InvalidInstanceID.NotFound",
                    f"The instance IDs '{', '.join(unknown)}' do not exist",
                )
            found = [instances[i] for i in InstanceIds]
            return {
                "Reservations": [
                    {
                        "Instances": [
                            {
                                "InstanceId": i.instance_id,
                                "InstanceType": i.pool.instance_type,
                                "Placement": {"AvailabilityZone": i.pool.zone},
                                "LaunchTime": i.launched_at,
                                "State": {"Name": "running" if i.running else "terminated"},
                                **({"InstanceLifecycle": "spot"} if i.lifecycle == "spot" else {}),
                            }
                            for i in found
                        ]
                    }
                ]
            }

    def describe_spot_price_history(
        self,
        *,
        InstanceTypes: list[str],
        ProductDescriptions: list[str],
        StartTime: datetime,
        EndTime: datetime,
    ) -> dict[str, Any]:
        """The price in force now of every pool of those types: the replayed market's prices
        do not move (they are one day's medians), so there is one record per pool."""
        with self._region.lock:
            now = self._region.clock()
            return {
                "SpotPriceHistory": [
                    {
                        "AvailabilityZone": m.pool.zone,
                        "AvailabilityZoneId": local_zone_id(m.pool.zone),
                        "InstanceType": m.pool.instance_type,
                        "ProductDescription": "Linux/UNIX",
                        "SpotPrice": f"{m.spot_price:.6f}",
                        "Timestamp": now,
                    }
                    for m in self._region.cloud.market
                    if m.pool.instance_type in InstanceTypes
                    and m.pool.region == self._region.name
                    and "Linux/UNIX" in ProductDescriptions
                ]
            }

    def get_spot_placement_scores(
        self,
        *,
        TargetCapacity: int,
        InstanceTypes: list[str],
        SingleAvailabilityZone: bool = False,
        RegionNames: list[str] | None = None,
        NextToken: str | None = None,
    ) -> dict[str, Any]:
        """AWS's answer shape (Region, AvailabilityZoneId, Score; one page), each zone scored
        on its free spot capacity over the requested types. Only the per-zone form is
        answered: the daemon asks for no other."""
        if not SingleAvailabilityZone:
            raise NotImplementedError("the local EC2 scores single zones only")
        if RegionNames and self._region.name not in RegionNames:
            return {"SpotPlacementScores": []}
        with self._region.lock:
            cloud = self._region.cloud
            free: dict[str, int] = {}
            for m in cloud.market:
                if m.pool.instance_type in InstanceTypes and m.pool.region == self._region.name:
                    free[m.pool.zone] = free.get(m.pool.zone, 0) + cloud.free(m.pool)
            return {
                "SpotPlacementScores": [
                    {
                        "Region": self._region.name,
                        "AvailabilityZoneId": local_zone_id(zone),
                        "Score": score_for(room, TargetCapacity),
                    }
                    for zone, room in sorted(free.items())
                ]
            }


class LocalAutoScalingClient:
    def __init__(self, region: LocalRegion) -> None:
        self._region = region

    def _group(self, operation: str, name: str) -> LocalAutoScalingGroup:
        group = self._region.groups.get(name)
        if group is None:
            raise _error(operation, "ValidationError", f"AutoScalingGroup name not found - {name}")
        return group

    def describe_auto_scaling_groups(
        self,
        *,
        AutoScalingGroupNames: list[str],
    ) -> dict[str, Any]:
        with self._region.lock:
            groups = [
                self._region.groups[n] for n in AutoScalingGroupNames if n in self._region.groups
            ]
            return {
                "AutoScalingGroups": [
                    {
                        "AutoScalingGroupName": g.name,
                        "DesiredCapacity": g.desired,
                        "MinSize": g.min_size,
                        "MaxSize": g.max_size,
                        "Instances": [
                            {
                                "InstanceId": i.instance_id,
                                "AvailabilityZone": i.pool.zone,
                                "InstanceType": i.pool.instance_type,
                                "LifecycleState": "InService",
                            }
                            for i in g.members()
                        ],
                    }
                    for g in groups
                ]
            }

    def set_desired_capacity(
        self,
        *,
        AutoScalingGroupName: str,
        DesiredCapacity: int,
        HonorCooldown: bool = False,
    ) -> dict[str, Any]:
        with self._region.lock:
            group = self._group("SetDesiredCapacity", AutoScalingGroupName)
            try:
                # As AWS: desired outside [min, max] is refused, not clamped.
                group.set_desired(DesiredCapacity)
            except ValueError as exc:
                raise _error("SetDesiredCapacity", "ValidationError", str(exc)) from exc
            group.fill(self._region.clock())
            return {}

    def terminate_instance_in_auto_scaling_group(
        self, *, InstanceId: str, ShouldDecrementDesiredCapacity: bool
    ) -> dict[str, Any]:
        with self._region.lock:
            for group in self._region.groups.values():
                if any(i.instance_id == InstanceId for i in group.members()):
                    group.terminate(
                        InstanceId,
                        self._region.clock(),
                        decrement=ShouldDecrementDesiredCapacity,
                    )
                    return {"Activity": group.activities[0]}
            raise _error(
                "TerminateInstanceInAutoScalingGroup",
                "ValidationError",
                f"Instance Id not found - No managed instance found for instance ID {InstanceId}",
            )

    def describe_scaling_activities(
        self, *, AutoScalingGroupName: str, MaxRecords: int = 100
    ) -> dict[str, Any]:
        with self._region.lock:
            group = self._group("DescribeScalingActivities", AutoScalingGroupName)
            return {"Activities": [dict(a) for a in group.activities[:MaxRecords]]}


class LocalStackActuator:
    """Mode ``local``: what ``pulumi up`` does with a placement, done to the local groups: each
    group's desired capacity becomes the placement's count for it (the stack owns them)."""

    name = "local"

    def __init__(self, region: LocalRegion, fleets: Mapping[str, FleetTarget]) -> None:
        self._region, self._fleets = region, dict(fleets)

    def apply(self, fleet: str, placement: dict[str, Any]) -> Applied:
        target = self._fleets.get(fleet)
        if target is None:
            raise ActuationError(f"no local groups for fleet {fleet!r}")
        zone_of_subnet = {subnet: zone for zone, subnet in target.subnets.items()}
        counts = {g: 0 for g in target.groups()}
        try:
            for entry in placement["pools"]:
                zone = zone_of_subnet[entry["subnetId"]]
                pool = f"{target.region}/{zone}/{entry['instanceType']}"
                counts[target.spot_groups[pool]] = int(entry["nodes"])
            counts[target.on_demand_group] = int(placement["onDemand"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ActuationError(f"the local groups refused the placement: {exc!r}") from exc
        with self._region.lock:
            for name, count in counts.items():
                group = self._region.groups[name]
                if group.desired != count:
                    group.set_desired(count)
                    group.fill(self._region.clock())
        held = sum(counts.values())
        return Applied(changed=True, summary=f"local stack: {held} nodes over {len(counts)} groups")
