"""A fleet's queues, topic, event rules and buckets as plain data: what to create, not how.

The Pulumi components build from this, and so does the embedded default (in a local AWS
emulation, without Pulumi), so both create the same things with the same settings. The
EventBridge patterns live here and nowhere else.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from stacks.naming import AwsAccount, FleetNames, fleet_names, history_bucket_name
from stacks.spec import FleetGroups, FleetSpec, fleet_groups

__all__ = [
    "DEAD_LETTER_RETENTION_SECONDS",
    "HISTORY_EXPORT_PREFIX",
    "INTERRUPTION_EVENT_PATTERNS",
    "MODEL_PREFIX",
    "BucketLayout",
    "DeadLetterLayout",
    "FleetLayout",
    "HistoryLayout",
    "QueueLayout",
    "RuleLayout",
    "fleet_layout",
    "history_layout",
]

# SQS keeps a message at most 14 days; a dead letter should outlive the message that died.
DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 3600
# Long polling: fewer empty receives, lower cost, no added latency.
RECEIVE_WAIT_SECONDS = 20
MODEL_PREFIX = "models/"
# Where the daemon's export job writes in the history bucket; its policy is scoped to it.
HISTORY_EXPORT_PREFIX = "history/"

# Account-wide: EventBridge cannot filter on Auto Scaling group, so every fleet's queue gets
# every instance's events and the daemon keeps those of its own instances (as Karpenter does).
INTERRUPTION_EVENT_PATTERNS: Mapping[str, Mapping[str, Any]] = MappingProxyType(
    {
        "spot-interruption": {
            "source": ["aws.ec2"],
            "detail-type": ["EC2 Spot Instance Interruption Warning"],
        },
        "rebalance": {
            "source": ["aws.ec2"],
            "detail-type": ["EC2 Instance Rebalance Recommendation"],
        },
        "state-change": {
            "source": ["aws.ec2"],
            "detail-type": ["EC2 Instance State-change Notification"],
        },
        "health": {
            "source": ["aws.health"],
            "detail-type": ["AWS Health Event"],
            "detail": {"service": ["EC2"], "eventTypeCategory": ["scheduledChange"]},
        },
    }
)


@dataclass(frozen=True, slots=True)
class DeadLetterLayout:
    name: str
    max_receive_count: int
    message_retention_seconds: int = DEAD_LETTER_RETENTION_SECONDS


@dataclass(frozen=True, slots=True)
class QueueLayout:
    """A standard queue, encrypted with SQS-managed keys, with its dead-letter queue."""

    name: str
    visibility_timeout_seconds: int
    message_retention_seconds: int
    dead_letter: DeadLetterLayout
    receive_wait_time_seconds: int = RECEIVE_WAIT_SECONDS

    def redrive_policy(self, dead_letter_arn: str) -> str:
        """The queue's ``RedrivePolicy`` attribute (JSON text, as SQS stores it)."""
        return json.dumps(
            {
                "deadLetterTargetArn": dead_letter_arn,
                "maxReceiveCount": self.dead_letter.max_receive_count,
            }
        )


@dataclass(frozen=True, slots=True)
class RuleLayout:
    kind: str
    name: str
    event_pattern: Mapping[str, Any]

    @property
    def event_pattern_json(self) -> str:
        return json.dumps(self.event_pattern, sort_keys=True)


@dataclass(frozen=True, slots=True)
class BucketLayout:
    """A private, encrypted, TLS-only bucket; versioned or expiring as its job needs."""

    name: str
    versioned: bool
    expiry_days: int | None


@dataclass(frozen=True, slots=True)
class HistoryLayout:
    """The stack's history bucket: the daemon's Parquet export, read by analysts and Athena.
    Not versioned (each export is a snapshot; retention keeps the last two) and never expired
    by S3 (retention decides what goes)."""

    bucket: BucketLayout
    export_prefix: str = HISTORY_EXPORT_PREFIX

    @property
    def export_uri(self) -> str:
        """What the daemon's ``export_dir`` is set to."""
        return f"s3://{self.bucket.name}/{self.export_prefix}"


def history_layout(*, prefix: str, account: AwsAccount) -> HistoryLayout:
    name = history_bucket_name(prefix, account)
    return HistoryLayout(BucketLayout(name, versioned=False, expiry_days=None))


@dataclass(frozen=True, slots=True)
class FleetLayout:
    names: FleetNames
    groups: FleetGroups
    job_queue: QueueLayout
    priority_queue: QueueLayout
    events_topic: str
    events_queue: QueueLayout
    interruption_queue: QueueLayout
    interruption_rules: tuple[RuleLayout, ...]
    model_bucket: BucketLayout
    results_bucket: BucketLayout
    model_s3_uri: str

    @property
    def queues(self) -> tuple[QueueLayout, ...]:
        return (self.job_queue, self.priority_queue, self.events_queue, self.interruption_queue)


def fleet_layout(fleet: FleetSpec, *, prefix: str, account: AwsAccount) -> FleetLayout:
    names = fleet_names(fleet.name, prefix=prefix, account=account)

    def job_queue(name: str, dead_letter: str) -> QueueLayout:
        return QueueLayout(
            name=name,
            visibility_timeout_seconds=fleet.visibility_timeout_seconds,
            message_retention_seconds=fleet.message_retention_seconds,
            dead_letter=DeadLetterLayout(dead_letter, fleet.max_receive_count),
        )

    def daemon_queue(name: str, dead_letter: str) -> QueueLayout:
        # The daemon handles a message in well under a minute; five failures means it is poison.
        # Kept four days: events are history too, worth reading after a daemon outage.
        return QueueLayout(
            name=name,
            visibility_timeout_seconds=60,
            message_retention_seconds=4 * 24 * 3600,
            dead_letter=DeadLetterLayout(dead_letter, 5),
        )

    return FleetLayout(
        names=names,
        groups=fleet_groups(fleet, prefix),
        job_queue=job_queue(names.job_queue, names.job_dead_letter_queue),
        priority_queue=job_queue(names.priority_queue, names.priority_dead_letter_queue),
        events_topic=names.events_topic,
        events_queue=daemon_queue(names.events_queue, names.events_dead_letter_queue),
        interruption_queue=daemon_queue(
            names.interruption_queue, names.interruption_dead_letter_queue
        ),
        interruption_rules=tuple(
            RuleLayout(kind, names.rule(kind), pattern)
            for kind, pattern in INTERRUPTION_EVENT_PATTERNS.items()
        ),
        model_bucket=BucketLayout(names.model_bucket, versioned=True, expiry_days=None),
        results_bucket=BucketLayout(
            names.results_bucket,
            versioned=False,
            expiry_days=fleet.results_expiry_days,
        ),
        model_s3_uri=fleet.model_s3_uri
        or f"s3://{names.model_bucket}/{MODEL_PREFIX}{fleet.model}/",
    )
