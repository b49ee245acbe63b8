"""The acting side's one loop: facts gathered once, plan, guards on the whole plan, group
targets, execute, and a refused launch re-placed at once from the same facts. Pure but for
the executor it is given; ``FleetController`` composes it for the daemon and the backtest."""

from reconciler.control.controller import FleetController, FleetFacts, Reconciled
from reconciler.control.guards import GuardState, Limits, Verdict, check_plan
from reconciler.control.loop import Outcome, Round, fleet_nodes, reconcile_fleet, restricted
from reconciler.control.placement import to_stack_placement
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
    "FleetController",
    "FleetFacts",
    "GroupTargets",
    "GroupsExecutor",
    "GuardState",
    "HeldNode",
    "LaunchFailure",
    "Limits",
    "Outcome",
    "Reconciled",
    "Round",
    "Verdict",
    "check_plan",
    "fleet_nodes",
    "group_targets",
    "reconcile_fleet",
    "restricted",
    "to_stack_placement",
]
