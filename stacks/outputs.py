"""The stack outputs, named and typed, so the daemon reads them without guessing.

The stack exports ``fleets``: an object mapping each fleet's name to an object with the keys
below, ``daemonPolicy``: the IAM policy document (JSON text) for the daemon's own role, and
``daemonLeaseTable``: the lease table's name (the daemon's ``lease.table``).
``history``: ``{bucket, exportUri}``, the history bucket and what the daemon's ``export_dir``
is set to.
:func:`parse_fleet_outputs` reads ``fleets`` (as ``pulumi stack output fleets --json`` prints it,
or the Automation API's ``outputs()["fleets"].value``) into :class:`FleetOutputs`.
"""

from __future__ import annotations

from typing import Final

from pydantic import BaseModel, StrictStr, ValidationError

from stacks.config_messages import describe, shown
from stacks.errors import OutputsError
from stacks.fleet_spec import config_model
from stacks.spec import FleetGroups, PoolGroup

__all__ = [
    "DAEMON_LEASE_TABLE",
    "DAEMON_POLICY",
    "FLEETS",
    "FLEET_OUTPUT_KEYS",
    "HISTORY",
    "FleetOutputs",
    "PoolGroupOutput",
    "parse_fleet_outputs",
]

FLEETS: Final = "fleets"
DAEMON_POLICY: Final = "daemonPolicy"
DAEMON_LEASE_TABLE: Final = "daemonLeaseTable"
HISTORY: Final = "history"

FLEET_OUTPUT_KEYS: Final = (
    "poolGroups",  # [{instanceType, subnetId, groupName}]: each candidate pool's spot group
    "onDemandGroupName",  # the fleet's on-demand group
    "jobQueueUrl",  # the application sends jobs here
    "priorityQueueUrl",  # jobs nodes take first
    "deadLetterQueueUrl",  # jobs that failed maxReceiveCount times or could not be parsed
    "priorityDeadLetterQueueUrl",
    "interruptionQueueUrl",  # the daemon reads interruption events here
    "jobEventsTopicArn",  # nodes publish job events; the application may subscribe
    "jobEventsQueueUrl",  # the daemon reads job events here, for the history
    "modelCacheBucket",  # upload model weights here (see modelS3Uri)
    "modelS3Uri",  # where nodes load the model from
    "resultsBucket",  # nodes write results here, under resultsPrefix
    "launchTemplateId",
    "launchTemplateVersion",  # the number every group runs
    "nodeRoleArn",
    "decisionId",  # the placement the groups were sized from ("" without one)
)


class PoolGroupOutput(BaseModel):
    model_config = config_model()

    instance_type: StrictStr
    subnet_id: StrictStr
    group_name: StrictStr


class FleetOutputs(BaseModel):
    """One fleet's outputs (``FLEET_OUTPUT_KEYS``)."""

    model_config = config_model()

    pool_groups: tuple[PoolGroupOutput, ...]
    on_demand_group_name: StrictStr
    job_queue_url: StrictStr
    priority_queue_url: StrictStr
    dead_letter_queue_url: StrictStr
    priority_dead_letter_queue_url: StrictStr
    interruption_queue_url: StrictStr
    job_events_topic_arn: StrictStr
    job_events_queue_url: StrictStr
    model_cache_bucket: StrictStr
    model_s3_uri: StrictStr
    results_bucket: StrictStr
    launch_template_id: StrictStr
    launch_template_version: StrictStr
    node_role_arn: StrictStr
    decision_id: StrictStr

    @property
    def groups(self) -> FleetGroups:
        """The groups as ``stacks.spec.fleet_groups`` names them."""
        return FleetGroups(
            pools=tuple(
                PoolGroup(g.instance_type, g.subnet_id, g.group_name) for g in self.pool_groups
            ),
            on_demand_group=self.on_demand_group_name,
        )


def parse_fleet_outputs(raw: object) -> dict[str, FleetOutputs]:
    """The ``fleets`` output, by fleet name; :class:`OutputsError` naming every bad key (an
    older stack, before one group per pool, has ``autoScalingGroupName``: run ``pulumi up``)."""
    if not isinstance(raw, dict):
        raise OutputsError(f"fleets: expected an object of fleets, got {shown(raw)}")
    fleets: dict[str, FleetOutputs] = {}
    problems: list[str] = []
    for name, item in raw.items():
        try:
            fleets[str(name)] = FleetOutputs.model_validate(item)
        except ValidationError as exc:
            problems.extend(
                f"fleets.{name}: {describe(e, FleetOutputs, {'poolGroups': PoolGroupOutput})}"
                for e in exc.errors()
            )
    if problems:
        raise OutputsError("; ".join(problems))
    return fleets
