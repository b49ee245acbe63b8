"""Every AWS name a fleet's resources get, derived from the name prefix and the fleet's name.

A pure function, so the Pulumi program and the embedded default (which creates the same queues,
buckets, topic and rules in a local AWS emulation without Pulumi) agree on names, and the daemon
can find a fleet's queues from the declaration alone. The groups' names are
``stacks.spec.fleet_groups``'s.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stacks.errors import NamingError

__all__ = [
    "LEASE_KEY",
    "LEASE_TTL_ATTRIBUTE",
    "AwsAccount",
    "FleetNames",
    "default_prefix",
    "fleet_names",
    "group_arn_pattern",
    "history_bucket_name",
    "lease_table_arn",
    "lease_table_name",
    "validate_prefix",
]

# The daemons' lease table (stacks/lease_table.py declares it, reconciler/daemon/dynamo_lease.py
# writes it): its hash key and its TTL attribute.
LEASE_KEY = "lease_name"
LEASE_TTL_ATTRIBUTE = "purge_at"

_PREFIX = re.compile(r"^[a-z](?:[a-z0-9-]{0,18}[a-z0-9])?$")
_BUCKET_MAX = 63
_GENERIC_MAX = 64  # IAM role and instance profile names, EventBridge rules, lifecycle hooks


@dataclass(frozen=True, slots=True)
class AwsAccount:
    """Where the stack runs: what ARNs and globally unique bucket names are built from."""

    account_id: str
    region: str
    partition: str = "aws"


@dataclass(frozen=True, slots=True)
class FleetNames:
    """The physical names of one fleet's resources."""

    fleet: str
    base: str
    lifecycle_hook: str
    launch_template: str
    security_group: str
    node_role: str
    node_policy: str
    instance_profile: str
    job_queue: str
    job_dead_letter_queue: str
    priority_queue: str
    priority_dead_letter_queue: str
    events_topic: str
    events_queue: str
    events_dead_letter_queue: str
    interruption_queue: str
    interruption_dead_letter_queue: str
    model_bucket: str
    results_bucket: str

    def rule(self, kind: str) -> str:
        """The EventBridge rule for one interruption event kind (see ``stacks.layout``)."""
        return f"{self.base}-{kind}"


def validate_prefix(prefix: str) -> str:
    """``prefix`` if AWS names can start with it; :class:`NamingError` saying what is allowed."""
    if not _PREFIX.fullmatch(prefix):
        raise NamingError(
            [
                f"{prefix!r} is not allowed; expected 1-20 lowercase letters, digits and hyphens, "
                "starting with a letter and not ending with a hyphen (it starts every bucket, "
                "queue and group name)"
            ]
        )
    return prefix


def default_prefix(stack: str) -> str:
    """``spotfleet-<stack>``, made name-safe; two stacks in one account never share names."""
    safe = re.sub(r"[^a-z0-9-]+", "-", stack.lower()).strip("-")
    candidate = f"spotfleet-{safe}" if safe else "spotfleet"
    try:
        return validate_prefix(candidate)
    except NamingError:
        raise NamingError(
            [
                f"the stack name {stack!r} gives the prefix {candidate!r}, which is too long or "
                "not name-safe; set spotfleet:namePrefix to 1-20 lowercase letters, digits and "
                "hyphens, e.g. `pulumi config set spotfleet:namePrefix sf-prod`"
            ]
        ) from None


def fleet_names(fleet: str, *, prefix: str, account: AwsAccount) -> FleetNames:
    """All names for ``fleet``; buckets carry the account id since bucket names are global."""
    base = f"{validate_prefix(prefix)}-{fleet}"
    names = FleetNames(
        fleet=fleet,
        base=base,
        lifecycle_hook=f"{base}-drain",
        launch_template=f"{base}-node",
        security_group=f"{base}-node",
        node_role=f"{base}-node",
        node_policy=f"{base}-node",
        instance_profile=f"{base}-node",
        job_queue=f"{base}-jobs",
        job_dead_letter_queue=f"{base}-jobs-dlq",
        priority_queue=f"{base}-jobs-priority",
        priority_dead_letter_queue=f"{base}-jobs-priority-dlq",
        events_topic=f"{base}-job-events",
        events_queue=f"{base}-job-events",
        events_dead_letter_queue=f"{base}-job-events-dlq",
        interruption_queue=f"{base}-interruptions",
        interruption_dead_letter_queue=f"{base}-interruptions-dlq",
        model_bucket=f"{base}-models-{account.account_id}",
        results_bucket=f"{base}-results-{account.account_id}",
    )
    too_long = [
        f"{name!r} is {len(name)} characters; AWS allows {limit}"
        for name, limit in (
            (names.model_bucket, _BUCKET_MAX),
            (names.results_bucket, _BUCKET_MAX),
            (names.rule("spot-interruption"), _GENERIC_MAX),
            (names.lifecycle_hook, _GENERIC_MAX),
        )
        if len(name) > limit
    ]
    if too_long:
        raise NamingError([*too_long, "shorten spotfleet:namePrefix or the fleet name"])
    return names


def history_bucket_name(prefix: str, account: AwsAccount) -> str:
    """The stack's one history bucket (every fleet's history is in the daemon's one file)."""
    name = f"{validate_prefix(prefix)}-history-{account.account_id}"
    if len(name) > _BUCKET_MAX:
        raise NamingError(
            [
                f"{name!r} is {len(name)} characters; AWS allows {_BUCKET_MAX}",
                "shorten spotfleet:namePrefix",
            ]
        )
    return name


def group_arn_pattern(account: AwsAccount, group: str) -> str:
    """The ARN of the Auto Scaling group called ``group``, its generated id left as ``*``.

    The name is known before the group exists, so the node role can be scoped to its group
    without waiting for the group (whose instances need the role from their first boot).
    """
    return (
        f"arn:{account.partition}:autoscaling:{account.region}:{account.account_id}:"
        f"autoScalingGroup:*:autoScalingGroupName/{group}"
    )


def lease_table_name(prefix: str) -> str:
    """The stack's one lease table: every daemon acting on the stack's fleets shares it."""
    return f"{validate_prefix(prefix)}-daemon-lease"


def lease_table_arn(account: AwsAccount, table: str) -> str:
    return f"arn:{account.partition}:dynamodb:{account.region}:{account.account_id}:table/{table}"
