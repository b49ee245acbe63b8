"""The pool planner: a pure function from a snapshot to a plan (placement + actions)."""

from reconciler.decide.planner.plan import plan
from reconciler.decide.planner.settings import PlannerSettings
from reconciler.decide.planner.types import (
    RECOVERY,
    Action,
    Drain,
    FleetDeclaration,
    FleetNode,
    LaunchOnDemand,
    LaunchSpot,
    Placement,
    PlacementPool,
    Plan,
    PoolVerdict,
    PoolView,
    Purpose,
    Snapshot,
)

__all__ = [
    "RECOVERY",
    "Action",
    "Drain",
    "FleetDeclaration",
    "FleetNode",
    "LaunchOnDemand",
    "LaunchSpot",
    "Placement",
    "PlacementPool",
    "Plan",
    "PlannerSettings",
    "PoolVerdict",
    "PoolView",
    "Purpose",
    "Snapshot",
    "plan",
]
