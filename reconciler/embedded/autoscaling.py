"""Auto Scaling groups over the local EC2, for the embedded default: one per pool, as the stack
declares them (``stacks/``), plus the fleet's on-demand group.

They behave as AWS's do with what the daemon gives them, so the demo does not flatter the
planner: a spot group launches into its one pool only, and a launch without capacity fails
(a ``Failed`` scaling activity with EC2's message, retried a little later, never moved to
another pool); the on-demand group takes the first type and zone in its order; a group above
its desired capacity scales in its newest instance first; ``TerminateInstanceInAutoScaling
Group`` terminates the named instance and, when asked, lowers the count. A spot notice does
not change a group: the instance counts until the market takes it (no capacity rebalancing),
and a group left above its count after that relaunches in place, as AWS's would.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from analytics.pools import Pool
from reconciler.embedded.cloud import Instance, InsufficientCapacity, LocalCloud

__all__ = ["Activity", "LocalAutoScalingGroup"]

# After a refused launch, a group waits this long (market time) before it tries again.
_RETRY = timedelta(seconds=60)
_ACTIVITY_IDS = itertools.count()


@dataclass
class Activity:
    """What one pass of the group did; the caller starts and stops the node processes."""

    launched: list[Instance] = field(default_factory=list)
    terminated: list[Instance] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


class LocalAutoScalingGroup:
    def __init__(
        self,
        *,
        name: str,
        pools: tuple[Pool, ...],
        lifecycle: str,
        max_size: int,
        cloud: LocalCloud,
    ) -> None:
        """``pools``: the one pool of a spot group; the on-demand group's pools in order."""
        if lifecycle == "spot" and len(pools) != 1:
            raise ValueError(f"spot group {name} must launch into one pool, not {len(pools)}")
        self.name, self.pools, self.lifecycle = name, pools, lifecycle
        self.min_size, self.max_size = 0, max_size
        self.desired = 0
        self._cloud = cloud
        self._members: list[str] = []
        self._retry_at: datetime | None = None
        self.activities: list[dict[str, Any]] = []  # newest first, as AWS lists them
        self._pending = Activity()  # done on the daemon's call, reported at the next pass

    @property
    def pool(self) -> Pool | None:
        return self.pools[0] if self.lifecycle == "spot" else None

    def set_desired(self, desired: int) -> None:
        if not self.min_size <= desired <= self.max_size:
            raise ValueError(
                f"New SetDesiredCapacity value {desired} is outside the group's bounds "
                f"[{self.min_size}, {self.max_size}]"
            )
        if desired > self.desired:
            self._retry_at = None  # a new count is tried at once
        self.desired = desired

    def terminate(self, instance_id: str, now: datetime, *, decrement: bool) -> Instance:
        if instance_id not in self._members:
            raise KeyError(instance_id)
        instance = self._cloud.terminate(instance_id, now, "drained by the daemon")
        self._members.remove(instance_id)
        if decrement:
            self.desired = max(self.min_size, self.desired - 1)
        self._pending.terminated.append(instance)
        self._record(now, f"Terminating EC2 instance: {instance_id}", "Successful", "")
        return instance

    def members(self) -> list[Instance]:
        return [self._cloud.instances[i] for i in self._members if self._cloud.instances[i].running]

    def _record(self, now: datetime, description: str, status: str, message: str) -> None:
        self.activities.insert(
            0,
            {
                "ActivityId": f"local-{next(_ACTIVITY_IDS):08d}",
                "AutoScalingGroupName": self.name,
                "Description": description,
                "Cause": f"At {now:%Y-%m-%dT%H:%M:%SZ} a user request explicitly set group "
                f"desired capacity changing the desired capacity to {self.desired}.",
                "StartTime": now,
                "EndTime": now,
                "StatusCode": status,
                "StatusMessage": message,
                "Progress": 100,
            },
        )
        del self.activities[50:]

    def _launch(self, now: datetime, activity: Activity) -> bool:
        errors = []
        for pool in self.pools:
            try:
                instance = self._cloud.launch(pool, self.lifecycle, now)
            except InsufficientCapacity as exc:
                errors.append(str(exc))
                continue
            self._members.append(instance.instance_id)
            activity.launched.append(instance)
            self._record(
                now, f"Launching a new EC2 instance: {instance.instance_id}", "Successful", ""
            )
            return True
        where = self.pools[0] if len(self.pools) == 1 else f"{len(self.pools)} pools"
        message = (
            "Could not launch Spot Instances. InsufficientInstanceCapacity - There is no Spot "
            "capacity available that matches your request. Launching EC2 instance failed."
            if self.lifecycle == "spot"
            else f"We currently do not have sufficient capacity in {where}. Launching EC2 "
            "instance failed."
        )
        self._record(
            now, "Launching a new EC2 instance.  Status Reason: " + message, "Failed", message
        )
        activity.failures.append(f"{self.name}: {'; '.join(errors)}")
        self._retry_at = now + _RETRY
        return False

    def fill(self, now: datetime) -> None:
        """Launch up to desired, unless a refused launch is waiting out its retry. AWS starts
        these launches as soon as the count is raised; they are reported at the next pass."""
        self._members = [i for i in self._members if self._cloud.instances[i].running]
        while len(self._members) < self.desired and (
            self._retry_at is None or now >= self._retry_at
        ):
            if not self._launch(now, self._pending):
                break

    def step(self, now: datetime) -> Activity:
        """Fill to desired, scale in the surplus newest first, and report what happened since
        the last pass."""
        self.fill(now)
        activity, self._pending = self._pending, Activity()
        surplus = len(self._members) - self.desired
        if surplus > 0:
            newest = sorted(self.members(), key=lambda i: -i.sequence)[:surplus]
            for instance in newest:
                self._members.remove(instance.instance_id)
                activity.terminated.append(
                    self._cloud.terminate(instance.instance_id, now, "scale in")
                )
        return activity
