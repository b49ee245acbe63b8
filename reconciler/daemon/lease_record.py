"""The DynamoDB lease's item and its pure rules: who may take it, how long to wait before a
retry. ``dynamo_lease`` does the talking to DynamoDB."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stacks.naming import LEASE_KEY, LEASE_TTL_ATTRIBUTE

__all__ = [
    "KEY",
    "PURGE_AFTER_S",
    "PURGE_AT",
    "RETRYABLE",
    "LeaseRecord",
    "backoff_s",
    "takeable",
]

KEY = LEASE_KEY  # the table's hash key (stacks/lease_table.py declares it)
PURGE_AT = LEASE_TTL_ATTRIBUTE  # the table's TTL attribute
PURGE_AFTER_S = 7 * 86400.0
# Errors that go away when asked again later: throttling, and DynamoDB's own hiccups.
RETRYABLE = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
    }
)


@dataclass(frozen=True, slots=True)
class LeaseRecord:
    holder: str
    token: int
    expires_at: float  # epoch seconds, the writer's clock

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> LeaseRecord:
        return cls(
            str(item["holder"]["S"]),
            int(item["fencing_token"]["N"]),
            float(item["expires_at"]["N"]),
        )


def takeable(current: LeaseRecord | None, *, me: str, now: float) -> bool:
    """Whether a take may succeed: nobody's, expired, or already ours."""
    return current is None or current.expires_at < now or current.holder == me


def backoff_s(attempt: int, *, first_s: float = 0.05, cap_s: float = 1.0) -> float:
    """The wait before retry ``attempt`` (0-based): doubling from ``first_s``, at most ``cap_s``."""
    return float(min(cap_s, first_s * 2**attempt))
