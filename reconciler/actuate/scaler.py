"""Desired capacity through the Auto Scaling API (the stack ignores it, so no update)."""

from __future__ import annotations

from typing import Any

from reconciler.collect.aws import aws_call

__all__ = ["AutoScalingScaler"]


class AutoScalingScaler:
    def __init__(self, autoscaling: Any) -> None:
        self._autoscaling = autoscaling

    def set_desired(self, group: str, desired: int) -> None:
        # HonorCooldown off: the daemon is the only one scaling this group, and a
        # replacement after an interruption warning must not wait for a cooldown.
        with aws_call("autoscaling:SetDesiredCapacity"):
            self._autoscaling.set_desired_capacity(
                AutoScalingGroupName=group, DesiredCapacity=desired, HonorCooldown=False
            )
