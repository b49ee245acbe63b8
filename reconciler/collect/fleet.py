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

from reconciler.collect.node_facts import price_new_nodes, termination_reason
from reconciler.core.aws import aws_call
from reconciler.core.errors import AwsCallError
from reconciler.core.history.ledger import Ledger, naive
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
    rows = []
    for m, lifecycle in members:
        inst = details.get(m["InstanceId"], {})
        zone = m.get("AvailabilityZone") or inst.get("Placement", {}).get("AvailabilityZone")
        itype = m.get("InstanceType") or inst.get("InstanceType")
        launched = inst.get("LaunchTime")
        state = str(m.get("LifecycleState", "InService"))
        rows.append(
            (
                m["InstanceId"],
                fleet.name,
                f"{fleet.region}/{zone}/{itype}",
                lifecycle,
                state,
                naive(launched) if isinstance(launched, datetime) else None,
                naive(now) if state == "InService" else None,
                naive(now),
            )
        )
    with ledger.con() as con:
        if rows:
            con.executemany(
                "INSERT INTO nodes (instance_id, fleet, pool, lifecycle, state, launched_at, "
                "ready_at, observed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (instance_id) DO UPDATE "
                "SET state = excluded.state, pool = excluded.pool, "
                "ready_at = coalesce(nodes.ready_at, excluded.ready_at), "
                "observed_at = excluded.observed_at",
                rows,
            )
        price_new_nodes(con, fleet.name)
        gone = [
            str(r[0])
            for r in con.execute(
                "SELECT instance_id FROM nodes WHERE fleet = ? AND state != 'terminated' "
                "AND NOT list_contains(?, instance_id)",
                [fleet.name, ids],
            ).fetchall()
        ]
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
    with ledger.con() as con:
        for instance_id in gone:
            events = con.execute(
                "SELECT kind, detail FROM interruption_events WHERE instance_id = ? "
                "ORDER BY ts DESC LIMIT 1",
                [instance_id],
            ).fetchall()
            reason = termination_reason(
                described.get(instance_id), (str(events[0][0]), events[0][1]) if events else None
            )
            con.execute(
                "UPDATE nodes SET state = 'terminated', terminated_at = ?, observed_at = ?, "
                "termination_reason = ? WHERE instance_id = ?",
                [naive(now), naive(now), reason, instance_id],
            )


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
