"""The acting side's one loop: plan, guards on the whole plan, group targets, execute, and a
refused launch re-placed at once. Pure but for the executor it is given."""

from reconciler.control.guards import GuardState, Limits, Verdict, check_plan
from reconciler.control.loop import Outcome, Round, fleet_nodes, reconcile_fleet, restricted
from reconciler.control.targets import group_targets
from reconciler.control.types import (
    ExecResult,
    GroupsExecutor,
    GroupTargets,
    HeldNode,
    LaunchFailure,
)

__all__ = [
    "ExecResult",
    "GroupTargets",
    "GroupsExecutor",
    "GuardState",
    "HeldNode",
    "LaunchFailure",
    "Limits",
    "Outcome",
    "Round",
    "Verdict",
    "check_plan",
    "fleet_nodes",
    "group_targets",
    "reconcile_fleet",
    "restricted",
]
