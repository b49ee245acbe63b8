"""The one vocabulary of interruption kinds: the values of the history's ``kind`` column, the
daemon's reactions and the node's notices all spell a kind from here."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["WARNING_KINDS", "Kind"]


class Kind(StrEnum):
    SPOT_INTERRUPTION_WARNING = "spot_interruption_warning"
    REBALANCE_RECOMMENDATION = "rebalance_recommendation"
    INSTANCE_STATE_CHANGE = "instance_state_change"
    CAPACITY_RESERVATION_INTERRUPTION_WARNING = "capacity_reservation_interruption_warning"
    SCHEDULED_CHANGE = "scheduled_change"  # an AWS Health scheduled change to EC2 instances
    HEALTH = "health"  # any other AWS Health event
    CAPACITY_LOSS = "capacity_loss"  # implied by a capacity trace
    UNPARSEABLE = "unparseable"


# Kinds that are a loss of the pool's spot capacity to the fleet (what the model learns from).
WARNING_KINDS: tuple[Kind, ...] = (Kind.SPOT_INTERRUPTION_WARNING,)
