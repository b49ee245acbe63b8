"""Errors of the daemon, its collectors and its actuators.

    DaemonError
    ├── AwsCallError        an AWS call failed (boto3/botocore error kept as the cause)
    ├── ActuationError      an actuator could not apply a decision
    │   └── StackBusyError  the stack stayed locked by another update after every retry
    ├── LeaseHeldError      another daemon holds this fleet's lease
    ├── LeaseLostError      the fencing check refused an actuation: this daemon's lease
    │                       expired or was taken (a newer token), or could not be confirmed
    └── DecideError         the deciding code could not plan (decide_adapter: no market data,
                            a corrupt model artifact)

Third-party errors are translated where they enter (``raise X(...) from exc``), so the
scheduler and the status API only ever see these.
"""

from __future__ import annotations

__all__ = [
    "ActuationError",
    "AwsCallError",
    "DaemonError",
    "LeaseHeldError",
    "LeaseLostError",
    "StackBusyError",
]


class DaemonError(Exception):
    """Base of every error the daemon raises on purpose."""


class AwsCallError(DaemonError):
    def __init__(self, operation: str, message: str) -> None:
        super().__init__(f"{operation}: {message}")
        self.operation = operation


class ActuationError(DaemonError):
    pass


class StackBusyError(ActuationError):
    pass


class LeaseHeldError(DaemonError):
    pass


class LeaseLostError(DaemonError):
    """Raised before an actuation reaches AWS, so a daemon that lost its lease (paused past
    expiry, partitioned, superseded) applies nothing."""
