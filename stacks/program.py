"""The whole stack from already-validated inputs: one GpuFleet per fleet, and the outputs.

``__main__.py`` reads config and calls this; tests call it directly under Pulumi's mocks.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi

from stacks.fleet import GpuFleet, GpuFleetArgs
from stacks.layout import fleet_layout
from stacks.lease_table import DaemonLeaseTable, DaemonLeaseTableArgs
from stacks.naming import AwsAccount, group_arn_pattern, lease_table_arn, lease_table_name
from stacks.policies import DaemonGrants, daemon_policy
from stacks.spec import FleetSpec, Placement

__all__ = [
    "StackInputs",
    "build_fleets",
    "build_lease_table",
    "daemon_policy_json",
    "fleet_outputs",
]


@dataclass(frozen=True)
class StackInputs:
    fleets: Sequence[FleetSpec]
    prefix: str
    account: AwsAccount
    placements: Mapping[str, Placement] = field(default_factory=dict)


def build_fleets(inputs: StackInputs) -> dict[str, GpuFleet]:
    return {
        spec.name: GpuFleet(
            spec.name,
            GpuFleetArgs(
                spec=spec,
                layout=fleet_layout(spec, prefix=inputs.prefix, account=inputs.account),
                account=inputs.account,
                placement=inputs.placements.get(spec.name),
            ),
        )
        for spec in inputs.fleets
    }


def build_lease_table(inputs: StackInputs) -> DaemonLeaseTable:
    """The one lease table of the stack: its daemons (``lease.kind = "dynamodb"``) share it."""
    return DaemonLeaseTable(
        "daemon-lease", DaemonLeaseTableArgs(table_name=lease_table_name(inputs.prefix))
    )


def fleet_outputs(fleets: Mapping[str, GpuFleet]) -> dict[str, dict[str, pulumi.Input[Any]]]:
    return {name: fleet.outputs() for name, fleet in fleets.items()}


def daemon_policy_json(
    fleets: Mapping[str, GpuFleet], account: AwsAccount, *, lease_table: str
) -> pulumi.Output[str]:
    """The daemon's IAM policy for every fleet of the stack and its lease table (by name), as
    JSON text."""
    queue_arns = [
        pulumi.Output.all(
            pulumi.Output.all(
                fleet.interruptions.events.queue.arn, fleet.job_events.history.queue.arn
            ),
            pulumi.Output.all(fleet.queues.jobs.queue.arn, fleet.queues.priority.queue.arn),
        )
        for fleet in fleets.values()
    ]
    groups = [
        [group_arn_pattern(account, name) for name in fleet.groups.names]
        for fleet in fleets.values()
    ]

    def document(per_fleet: list[Any]) -> str:
        grants = [
            DaemonGrants(group_arns=group_arns, event_queue_arns=events, job_queue_arns=jobs)
            for group_arns, (events, jobs) in zip(groups, per_fleet, strict=True)
        ]
        return json.dumps(
            daemon_policy(grants, lease_table_arn=lease_table_arn(account, lease_table))
        )

    return pulumi.Output.all(*queue_arns).apply(document)
