"""IAM and resource policy documents, as pure functions of ARNs.

Components call these with their resources' ARNs (inside ``Output.all(...).apply``); tests and
operators call them with plain strings. Allow statements name every action: no ``*`` and no
``service:*``. The only wildcard action is the TLS-only bucket policy's ``Deny s3:*``, because a
deny has to cover every action to mean anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from stacks.daemon_actions import DAEMON_ACTIONS, Scope

__all__ = [
    "DaemonGrants",
    "HistoryGrants",
    "NodeGrants",
    "PolicyDocument",
    "allowed_actions",
    "daemon_policy",
    "node_policy",
    "node_trust_policy",
    "queue_policy_allowing_rules",
    "queue_policy_allowing_topic",
    "s3_uri_arns",
    "tls_only_bucket_policy",
]

PolicyDocument = dict[str, Any]
_VERSION = "2012-10-17"

_TAKE_JOBS = [
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
]
# One statement per scope of the daemon's declared actions (stacks.daemon_actions).
_DAEMON_STATEMENTS = {
    Scope.ANY: "ObserveMarketAndFleet",
    Scope.FLEET_GROUPS: "ResizeOwnGroups",
    Scope.EVENT_QUEUES: "ConsumeFleetEvents",
    Scope.JOB_QUEUES: "ReadJobBacklog",
    Scope.LEASE_TABLE: "HoldDaemonLease",
    Scope.HISTORY_OBJECTS: "WriteHistoryExport",
    Scope.HISTORY_PREFIX: "ListHistoryExport",
}


@dataclass(frozen=True, slots=True)
class NodeGrants:
    """What one fleet's nodes may touch."""

    job_queue_arns: Sequence[str]
    dead_letter_queue_arns: Sequence[str]
    model_bucket_arn: str
    model_s3_uri: str
    results_bucket_arn: str
    results_prefix: str
    events_topic_arn: str
    group_arns: Sequence[str]  # every group of the fleet: a node may be in any of them
    partition: str = "aws"


@dataclass(frozen=True, slots=True)
class DaemonGrants:
    """What the daemon may touch of one fleet."""

    group_arns: Sequence[str]
    event_queue_arns: Sequence[str]  # the interruption queue and the job-events queue
    job_queue_arns: Sequence[str]


@dataclass(frozen=True, slots=True)
class HistoryGrants:
    """Where the daemon's export job writes: one prefix of the stack's history bucket."""

    bucket_arn: str
    prefix: str  # "history/": the daemon may touch nothing else of the bucket

    def __post_init__(self) -> None:
        if not self.prefix or not self.prefix.endswith("/") or self.prefix.startswith("/"):
            raise ValueError(f"history prefix {self.prefix!r}: expected a folder like 'history/'")


def node_trust_policy() -> PolicyDocument:
    return {
        "Version": _VERSION,
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def node_policy(grants: NodeGrants) -> PolicyDocument:
    model_bucket_arns = [grants.model_bucket_arn]
    model_object_arns = [f"{grants.model_bucket_arn}/*"]
    source_bucket, source_objects = s3_uri_arns(grants.model_s3_uri, grants.partition)
    if source_bucket != grants.model_bucket_arn:
        # The fleet serves a model kept elsewhere: read only that prefix of it.
        model_bucket_arns.append(source_bucket)
        model_object_arns.append(source_objects)
    return {
        "Version": _VERSION,
        "Statement": [
            _allow("TakeJobs", _TAKE_JOBS, list(grants.job_queue_arns)),
            # A job that cannot be parsed goes to its dead-letter queue with the reason.
            _allow(
                "DeadLetterInvalidJobs", ["sqs:SendMessage"], list(grants.dead_letter_queue_arns)
            ),
            _allow("ListModelCache", ["s3:ListBucket"], model_bucket_arns),
            _allow("ReadModelCache", ["s3:GetObject"], model_object_arns),
            _allow(
                "WriteResults",
                ["s3:PutObject", "s3:AbortMultipartUpload"],
                [f"{grants.results_bucket_arn}/{grants.results_prefix}*"],
            ),
            _allow("PublishJobEvents", ["sns:Publish"], [grants.events_topic_arn]),
            _allow(
                "DrainOnTermination",
                [
                    "autoscaling:CompleteLifecycleAction",
                    "autoscaling:RecordLifecycleActionHeartbeat",
                ],
                list(grants.group_arns),
            ),
        ],
    }


def daemon_policy(
    fleets: Sequence[DaemonGrants], history: HistoryGrants, *, lease_table_arn: str
) -> PolicyDocument:
    """The daemon's own API calls for these fleets, its history export and the stack's lease
    table: exactly
    ``DAEMON_ACTIONS``, each on the resources its scope names (its ``pulumi up`` runs as the
    deployer)."""
    resources = {
        Scope.ANY: ["*"],
        Scope.FLEET_GROUPS: [arn for fleet in fleets for arn in fleet.group_arns],
        Scope.EVENT_QUEUES: [arn for fleet in fleets for arn in fleet.event_queue_arns],
        Scope.JOB_QUEUES: [arn for fleet in fleets for arn in fleet.job_queue_arns],
        Scope.LEASE_TABLE: [lease_table_arn],
        Scope.HISTORY_OBJECTS: [f"{history.bucket_arn}/{history.prefix}*"],
        Scope.HISTORY_PREFIX: [history.bucket_arn],
    }
    statements = [
        _allow(sid, [a.action for a in DAEMON_ACTIONS if a.scope is scope], resources[scope])
        for scope, sid in _DAEMON_STATEMENTS.items()
    ]
    for statement in statements:
        if statement["Sid"] == _DAEMON_STATEMENTS[Scope.HISTORY_PREFIX]:
            # ListBucket is on the bucket; the condition keeps the listing inside the prefix.
            prefixes = [history.prefix, f"{history.prefix}*"]
            statement["Condition"] = {"StringLike": {"s3:prefix": prefixes}}
    return {"Version": _VERSION, "Statement": statements}


def queue_policy_allowing_topic(queue_arn: str, topic_arn: str) -> PolicyDocument:
    """Only ``topic_arn`` may send to the queue (through SNS)."""
    return _queue_policy(queue_arn, "sns.amazonaws.com", [topic_arn], "JobEventsTopicOnly")


def queue_policy_allowing_rules(queue_arn: str, rule_arns: Sequence[str]) -> PolicyDocument:
    """Only the given EventBridge rules may send to the queue."""
    return _queue_policy(
        queue_arn, "events.amazonaws.com", list(rule_arns), "InterruptionRulesOnly"
    )


def tls_only_bucket_policy(bucket_arn: str) -> PolicyDocument:
    return {
        "Version": _VERSION,
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, f"{bucket_arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }


def s3_uri_arns(uri: str, partition: str = "aws") -> tuple[str, str]:
    """``s3://bucket/key/`` → (the bucket's ARN, the ARN of the objects under the key)."""
    if not uri.startswith("s3://"):
        raise ValueError(f"{uri!r} is not an S3 URI; expected s3://bucket/prefix/")
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    bucket_arn = f"arn:{partition}:s3:::{bucket}"
    return bucket_arn, f"{bucket_arn}/{key}*"


def allowed_actions(document: PolicyDocument) -> list[str]:
    """Every action an Allow statement of ``document`` grants."""
    actions: list[str] = []
    for statement in document["Statement"]:
        if statement["Effect"] == "Allow":
            action = statement["Action"]
            actions.extend([action] if isinstance(action, str) else action)
    return actions


def _allow(sid: str, actions: list[str], resources: list[str]) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources}


def _queue_policy(queue_arn: str, service: str, source_arns: list[str], sid: str) -> PolicyDocument:
    return {
        "Version": _VERSION,
        "Statement": [
            {
                "Sid": sid,
                "Effect": "Allow",
                "Principal": {"Service": service},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": source_arns}},
            }
        ],
    }
