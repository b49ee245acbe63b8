"""The fleet's groups through AWS's Auto Scaling API: the daemon's executor.

Targets become calls, drains first: ``TerminateInstanceInAutoScalingGroup`` with the group's
desired capacity decremented (the termination lifecycle hook drains the node, and the group
does not relaunch it in place), then ``SetDesiredCapacity`` on every group whose count
differs. A group raised is then watched until its new instances are in it or its scaling
activities show the launch failed (``InsufficientInstanceCapacity`` and the like), for at most
``settle_s``: the failure comes back to the same reconcile, which re-places the launch.

The same calls reach AWS in production and the embedded default's local groups in mode
``local``; in a test, moto's server.

``fence`` is asked right before each call that changes a group, and raises (the daemon's
``LeaseLostError``) once this daemon's lease is no longer held: a leader paused or cut off
past its lease applies nothing more, even mid-batch.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from reconciler.control.types import (
    ExecResult,
    GroupHolding,
    GroupTargets,
    HeldNode,
    LaunchFailure,
)
from reconciler.core.aws import aws_call
from reconciler.core.settings import FleetTarget

__all__ = ["AutoScalingGroups", "failed_launches"]

# Words AWS puts in a scaling activity's StatusMessage when a pool cannot take a launch now.
_CAPACITY_WORDS = (
    "InsufficientInstanceCapacity",
    "There is no Spot capacity available",
    "sufficient capacity",
    "MaxSpotInstanceCountExceeded",
    "SpotMaxPriceTooLow",
    "Unsupported",
)


# A member in these lifecycle states is leaving its group.
_LEAVING = ("Terminat", "Detach")


def failed_launches(activities: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The activities of ``DescribeScalingActivities`` that are launches refused by the pool."""
    return [
        a
        for a in activities
        if a.get("StatusCode") in ("Failed", "Cancelled")
        and str(a.get("Description", "")).startswith("Launching")
        and any(w in str(a.get("StatusMessage", "")) for w in _CAPACITY_WORDS)
    ]


class AutoScalingGroups:
    def __init__(
        self,
        autoscaling: Any,
        fleet: FleetTarget,
        *,
        cold_start_s: float,
        settle_s: float,
        poll_s: float = 0.5,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        fence: Callable[[], None] = lambda: None,
    ) -> None:
        self._autoscaling = autoscaling
        self._fleet = fleet
        self._pool_of = fleet.pool_of_group()
        self._cold_start_s = cold_start_s
        self._settle_s, self._poll_s = settle_s, poll_s
        self._monotonic, self._sleep = monotonic, sleep
        self._fence = fence

    def _describe(self) -> dict[str, dict[str, Any]]:
        names = list(self._fleet.groups())
        out: dict[str, dict[str, Any]] = {}
        with aws_call("autoscaling:DescribeAutoScalingGroups"):
            for i in range(0, len(names), 100):
                for g in self._autoscaling.describe_auto_scaling_groups(
                    AutoScalingGroupNames=names[i : i + 100]
                )["AutoScalingGroups"]:
                    out[str(g["AutoScalingGroupName"])] = g
        return out

    def _activity_ids(self, group: str) -> dict[str, dict[str, Any]]:
        with aws_call("autoscaling:DescribeScalingActivities"):
            page = self._autoscaling.describe_scaling_activities(
                AutoScalingGroupName=group, MaxRecords=20
            )
        return {str(a["ActivityId"]): a for a in page.get("Activities", [])}

    def holding(self) -> tuple[GroupHolding, ...]:
        """Every group's desired capacity and the members it keeps (not on their way out)."""
        out = []
        for name, group in self._describe().items():
            members = tuple(
                sorted(
                    str(m["InstanceId"])
                    for m in group.get("Instances", [])
                    if not str(m.get("LifecycleState", "")).startswith(_LEAVING)
                )
            )
            out.append(
                GroupHolding(self._pool_of[name], int(group.get("DesiredCapacity", 0)), members)
            )
        return tuple(out)

    def apply(self, targets: GroupTargets, *, now: float) -> ExecResult:
        groups = self._describe()
        desired = {name: int(g.get("DesiredCapacity", 0)) for name, g in groups.items()}
        members = {
            name: {str(m["InstanceId"]) for m in g.get("Instances", [])}
            for name, g in groups.items()
        }
        owner = {iid: name for name, ids in members.items() for iid in ids}
        changed: list[str] = []
        for instance_id in targets.drain:
            group = owner.get(instance_id)
            if group is None:
                continue  # already gone
            self._fence()
            with aws_call("autoscaling:TerminateInstanceInAutoScalingGroup"):
                self._autoscaling.terminate_instance_in_auto_scaling_group(
                    InstanceId=instance_id, ShouldDecrementDesiredCapacity=True
                )
            desired[group] -= 1
            members[group].discard(instance_id)
            changed.append(f"drain {instance_id} ({group})")

        # A node in a pool the fleet no longer declares has no group to size; the planner
        # moves it (its pool's loss is taken as certain).
        want = {
            self._fleet.spot_groups[p.name]: n
            for p, n in targets.spot.items()
            if p.name in self._fleet.spot_groups
        }
        want[self._fleet.on_demand_group] = targets.on_demand
        raised: dict[str, int] = {}
        before: dict[str, dict[str, dict[str, Any]]] = {}
        for group in self._fleet.groups():
            target = want.get(group, 0)
            if group not in desired or target == desired[group]:
                continue
            if target > desired[group]:
                raised[group] = target
                before[group] = self._activity_ids(group)
            self._fence()
            with aws_call("autoscaling:SetDesiredCapacity"):
                # HonorCooldown off: the daemon is the only one sizing these groups, and a
                # replacement after a warning must not wait for a cooldown.
                self._autoscaling.set_desired_capacity(
                    AutoScalingGroupName=group, DesiredCapacity=target, HonorCooldown=False
                )
            changed.append(f"{group}: {desired[group]} -> {target}")
        launched, failures = self._settle(raised, members, before, now)
        return ExecResult(tuple(launched), tuple(failures), tuple(changed))

    def _settle(
        self,
        raised: dict[str, int],
        members: dict[str, set[str]],
        before: dict[str, dict[str, dict[str, Any]]],
        now: float,
    ) -> tuple[list[HeldNode], list[LaunchFailure]]:
        """Wait until every raised group holds its new count or says why it cannot."""
        launched: list[HeldNode] = []
        failures: list[LaunchFailure] = []
        pending = dict(raised)
        deadline = self._monotonic() + self._settle_s
        while pending:
            groups = self._describe()
            for group in list(pending):
                pool = self._pool_of[group]
                ids = {str(m["InstanceId"]) for m in groups.get(group, {}).get("Instances", [])}
                new = ids - members[group]
                members[group] |= new
                launched += [HeldNode(i, pool, now, now + self._cold_start_s) for i in new]
                refused = [
                    a
                    for a in failed_launches(self._activity_ids(group).values())
                    if str(a["ActivityId"]) not in before[group]
                ]
                if refused:
                    message = str(refused[0].get("StatusMessage", "launch failed"))
                    failures.append(LaunchFailure(pool, now, f"{group}: {message}"))
                if refused or len(ids) >= pending[group]:
                    del pending[group]
            if not pending or self._monotonic() >= deadline:
                break
            self._sleep(self._poll_s)
        return launched, failures
