"""The fleet as AWS sees it: the group's instances into ``nodes``; the job queues' backlog.

An instance that left the group is marked terminated (not deleted): the history keeps
every node the fleet ever ran.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reconciler.collect.aws import aws_call
from reconciler.daemon.ledger import Ledger, naive
from reconciler.daemon.settings import FleetTarget

__all__ = ["Backlog", "GroupView", "observe_fleet", "read_backlog"]


@dataclass(frozen=True, slots=True)
class GroupView:
    desired: int
    instances: int


@dataclass(frozen=True, slots=True)
class Backlog:
    visible: int
    in_flight: int

    @property
    def total(self) -> int:
        return self.visible + self.in_flight


def observe_fleet(
    ledger: Ledger, autoscaling: Any, ec2: Any, fleet: FleetTarget, *, now: datetime
) -> GroupView:
    with aws_call("autoscaling:DescribeAutoScalingGroups"):
        groups = autoscaling.describe_auto_scaling_groups(
            AutoScalingGroupNames=[fleet.autoscaling_group]
        )["AutoScalingGroups"]
    if not groups:
        return GroupView(desired=0, instances=0)
    group = groups[0]
    members = group.get("Instances", [])
    details: dict[str, dict[str, Any]] = {}
    ids = [m["InstanceId"] for m in members]
    if ids:
        with aws_call("ec2:DescribeInstances"):
            for page in ec2.get_paginator("describe_instances").paginate(InstanceIds=ids):
                for reservation in page["Reservations"]:
                    for inst in reservation["Instances"]:
                        details[inst["InstanceId"]] = inst
    rows = []
    for m in members:
        inst = details.get(m["InstanceId"], {})
        zone = m.get("AvailabilityZone") or inst.get("Placement", {}).get("AvailabilityZone")
        itype = m.get("InstanceType") or inst.get("InstanceType")
        lifecycle = "spot" if inst.get("InstanceLifecycle") == "spot" else "on-demand"
        launched = inst.get("LaunchTime")
        rows.append(
            (
                m["InstanceId"],
                fleet.name,
                f"{fleet.region}/{zone}/{itype}",
                lifecycle,
                str(m.get("LifecycleState", "InService")),
                naive(launched) if isinstance(launched, datetime) else None,
                naive(now),
            )
        )
    with ledger.con() as con:
        if rows:
            con.executemany(
                "INSERT INTO nodes (instance_id, fleet, pool, lifecycle, state, launched_at, "
                "observed_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (instance_id) DO UPDATE "
                "SET state = excluded.state, pool = excluded.pool, "
                "observed_at = excluded.observed_at",
                rows,
            )
        con.execute(
            "UPDATE nodes SET state = 'terminated', terminated_at = ?, observed_at = ? "
            "WHERE fleet = ? AND state != 'terminated' AND NOT list_contains(?, instance_id)",
            [naive(now), naive(now), fleet.name, ids],
        )
    return GroupView(desired=int(group.get("DesiredCapacity", 0)), instances=len(members))


def read_backlog(sqs: Any, queue_urls: tuple[str, ...]) -> Backlog:
    visible = in_flight = 0
    for url in queue_urls:
        with aws_call("sqs:GetQueueAttributes"):
            attrs = sqs.get_queue_attributes(
                QueueUrl=url,
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                ],
            )["Attributes"]
        visible += int(attrs.get("ApproximateNumberOfMessages", 0))
        in_flight += int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0))
    return Backlog(visible=visible, in_flight=in_flight)
