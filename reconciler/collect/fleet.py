"""The fleet as AWS sees it: its groups' instances into ``nodes``; the job queues' backlog.

An instance that left the group is marked terminated (not deleted): the history keeps
every node the fleet ever ran, with what it cost an hour (its launch price), when it was
first seen in service (``ready_at``) and why it ended (``termination_reason``): see
``node_facts``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from reconciler.collect.node_facts import termination_reason
from reconciler.core.aws import aws_call
from reconciler.core.errors import AwsCallError
from reconciler.core.history.ledger import Ledger
from reconciler.core.history.node_writes import (
    ObservedNode,
    last_events_about,
    mark_terminated,
    record_members,
)
from reconciler.core.settings import FleetTarget

__all__ = ["Backlog", "GroupView", "observe_fleet", "read_backlog"]


@dataclass(frozen=True, slots=True)
class GroupView:
    """The fleet's groups as last observed: desired capacity in all and by group."""

    desired: int
    instances: int
    by_group: Mapping[str, int] = field(default_factory=dict)


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
    names = list(fleet.groups())
    groups: list[dict[str, Any]] = []
    with aws_call("autoscaling:DescribeAutoScalingGroups"):
        # At most 100 names a call (AWS's limit), so a large fleet asks in batches.
        for i in range(0, len(names), 100):
            groups += autoscaling.describe_auto_scaling_groups(
                AutoScalingGroupNames=names[i : i + 100]
            )["AutoScalingGroups"]
    # The group says what a node is: the spot groups hold spot, the on-demand group on-demand.
    members = [
        (m, "on-demand" if g["AutoScalingGroupName"] == fleet.on_demand_group else "spot")
        for g in groups
        for m in g.get("Instances", [])
    ]
    details: dict[str, dict[str, Any]] = {}
    ids = [m["InstanceId"] for m, _ in members]
    if ids:
        with aws_call("ec2:DescribeInstances"):
            for page in ec2.get_paginator("describe_instances").paginate(InstanceIds=ids):
                for reservation in page["Reservations"]:
                    for inst in reservation["Instances"]:
                        details[inst["InstanceId"]] = inst
    observed = []
    for m, lifecycle in members:
        inst = details.get(m["InstanceId"], {})
        zone = m.get("AvailabilityZone") or inst.get("Placement", {}).get("AvailabilityZone")
        itype = m.get("InstanceType") or inst.get("InstanceType")
        launched = inst.get("LaunchTime")
        state = str(m.get("LifecycleState", "InService"))
        observed.append(
            ObservedNode(
                instance_id=m["InstanceId"],
                pool=f"{fleet.region}/{zone}/{itype}",
                lifecycle=lifecycle,
                state=state,
                launched_at=launched if isinstance(launched, datetime) else None,
                ready_at=now if state == "InService" else None,
            )
        )
    gone = record_members(ledger, fleet.name, observed, now=now)
    if gone:
        _mark_gone(ledger, ec2, fleet, gone, now)
    by_group = {str(g["AutoScalingGroupName"]): int(g.get("DesiredCapacity", 0)) for g in groups}
    return GroupView(sum(by_group.values()), len(members), by_group)


def _mark_gone(
    ledger: Ledger, ec2: Any, fleet: FleetTarget, gone: list[str], now: datetime
) -> None:
    described: dict[str, dict[str, Any]] = {}
    try:
        with aws_call("ec2:DescribeInstances"):
            for page in ec2.get_paginator("describe_instances").paginate(InstanceIds=gone):
                for reservation in page["Reservations"]:
                    for inst in reservation["Instances"]:
                        described[inst["InstanceId"]] = inst
    except AwsCallError:
        pass  # long gone (EC2 forgets terminated instances after about an hour): no reason
    events = last_events_about(ledger, gone)
    reasons: dict[str, str] = {}
    for instance_id in gone:
        event = events.get(instance_id)
        reasons[instance_id] = termination_reason(
            described.get(instance_id), (event.kind, event.detail) if event else None
        )
    mark_terminated(ledger, reasons, now=now)


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
