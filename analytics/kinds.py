"""The one vocabulary of interruption kinds: the values of the history's ``kind`` column, the
daemon's reactions and the node's notices all spell a kind from here.

The node imports this module (and only this one from ``analytics``), so it stays free of
anything heavier than the standard library.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["WARNING_KINDS", "Kind"]


class Kind(StrEnum):
    SPOT_INTERRUPTION_WARNING = "spot_interruption_warning"
    REBALANCE_RECOMMENDATION = "rebalance_recommendation"
    INSTANCE_STATE_CHANGE = "instance_state_change"
    CAPACITY_RESERVATION_INTERRUPTION_WARNING = "capacity_reservation_interruption_warning"
    SCHEDULED_CHANGE = "scheduled_change"  # a scheduled reboot, stop or retirement (Health, IMDS)
    HEALTH = "health"  # any other AWS Health event
    CAPACITY_LOSS = "capacity_loss"  # implied by a capacity trace
    UNPARSEABLE = "unparseable"
    # Seen by the node only: its Auto Scaling group is terminating it (the IMDS target
    # lifecycle state), or the process was told to stop.
    ASG_TERMINATION = "asg_termination"
    SIGTERM = "sigterm"


# Kinds that are a loss of the pool's spot capacity to the fleet (what the model learns from).
WARNING_KINDS: tuple[Kind, ...] = (Kind.SPOT_INTERRUPTION_WARNING,)
