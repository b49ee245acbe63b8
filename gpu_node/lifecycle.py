"""Completing the Auto Scaling termination lifecycle action once the node has drained."""

from __future__ import annotations

import logging
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from gpu_node.errors import AwsError

__all__ = ["AsgLifecycle", "LifecycleCompleter"]

log = logging.getLogger(__name__)


class LifecycleCompleter(Protocol):
    def complete(self) -> None: ...


class AsgLifecycle:
    def __init__(self, *, autoscaling: Any, hook: str, asg_name: str, instance_id: str) -> None:
        self._autoscaling = autoscaling
        self._hook = hook
        self._asg_name = asg_name
        self._instance_id = instance_id

    def complete(self) -> None:
        try:
            self._autoscaling.complete_lifecycle_action(
                LifecycleHookName=self._hook,
                AutoScalingGroupName=self._asg_name,
                InstanceId=self._instance_id,
                LifecycleActionResult="CONTINUE",
            )
        except (BotoCoreError, ClientError) as exc:
            raise AwsError(f"complete lifecycle action {self._hook}: {exc}") from exc
        log.info("completed lifecycle action %s for %s", self._hook, self._instance_id)
