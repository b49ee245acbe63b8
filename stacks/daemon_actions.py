"""Every AWS call the daemon makes, once: the daemon's IAM policy is built from this list and
a test drives the daemon against moto, recording each call, and checks the two agree.

Pure data, no Pulumi and no boto3. The daemon's ``pulumi up`` (its stack updates) runs with the
deployer's credentials through the Pulumi CLI, not with this policy.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["DAEMON_ACTIONS", "DaemonAction", "Scope"]


class Scope(enum.Enum):
    """What an action may touch."""

    # Describe and spot-market calls have no resource-level permissions in IAM: "*" is the
    # only resource AWS accepts for them.
    ANY = "any"
    FLEET_GROUPS = "fleet-groups"  # every group of the stack's fleets, by ARN
    EVENT_QUEUES = "event-queues"  # the interruption and job-events queues the daemon consumes
    JOB_QUEUES = "job-queues"  # the job queues whose backlog sizes the fleet
    LEASE_TABLE = "lease-table"  # the stack's daemon lease table (lease.kind "dynamodb")
    HISTORY_OBJECTS = "history-objects"  # the objects under the history bucket's export prefix
    HISTORY_PREFIX = "history-prefix"  # listing the history bucket, only under that prefix


@dataclass(frozen=True, slots=True)
class DaemonAction:
    action: str  # service:Action, as IAM names it
    scope: Scope
    why: str


DAEMON_ACTIONS: tuple[DaemonAction, ...] = (
    DaemonAction("ec2:DescribeSpotPriceHistory", Scope.ANY, "spot prices of the candidate pools"),
    DaemonAction("ec2:GetSpotPlacementScores", Scope.ANY, "how likely each pool can take nodes"),
    DaemonAction("ec2:DescribeInstances", Scope.ANY, "the fleet's nodes: type, zone, lifecycle"),
    DaemonAction("ec2:DescribeSubnets", Scope.ANY, "each declared subnet's zone, at start"),
    DaemonAction(
        "autoscaling:DescribeAutoScalingGroups", Scope.ANY, "each group's size and members"
    ),
    DaemonAction(
        "autoscaling:DescribeScalingActivities", Scope.ANY, "failed launches (no capacity ...)"
    ),
    DaemonAction(
        "autoscaling:SetDesiredCapacity",
        Scope.FLEET_GROUPS,
        "each group's count as the plan says, written back into the stack at its next update",
    ),
    DaemonAction(
        "autoscaling:TerminateInstanceInAutoScalingGroup",
        Scope.FLEET_GROUPS,
        "drain a named node through its group's hook (a warned node, a move's old node)",
    ),
    DaemonAction("sqs:ReceiveMessage", Scope.EVENT_QUEUES, "interruption and job events"),
    DaemonAction("sqs:DeleteMessage", Scope.EVENT_QUEUES, "an event once it is in the history"),
    DaemonAction("sqs:GetQueueAttributes", Scope.JOB_QUEUES, "the job backlog that sets K"),
    DaemonAction(
        "dynamodb:GetItem",
        Scope.LEASE_TABLE,
        "the lease's holder and fencing token (a standby's poll, the check before each action)",
    ),
    DaemonAction(
        "dynamodb:PutItem", Scope.LEASE_TABLE, "take, renew and release the lease (conditional)"
    ),
    # The export job (export_dir = s3://bucket/prefix): a snapshot's files, its manifest and
    # the _latest.json pointer are put; retention reads the pointer and deletes old snapshots.
    # (No AbortMultipartUpload: a killed upload is aborted by the bucket's lifecycle rule.)
    DaemonAction("s3:PutObject", Scope.HISTORY_OBJECTS, "the export's files and its pointer"),
    DaemonAction("s3:GetObject", Scope.HISTORY_OBJECTS, "_latest.json and manifests, read back"),
    DaemonAction("s3:DeleteObject", Scope.HISTORY_OBJECTS, "snapshots retention sweeps"),
    DaemonAction("s3:ListBucket", Scope.HISTORY_PREFIX, "the snapshots under the prefix"),
)
