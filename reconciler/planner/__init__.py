"""The pool planner: a pure function from a snapshot to a plan (placement + actions)."""

from reconciler.planner.plan import plan
from reconciler.planner.settings import PlannerSettings
from reconciler.planner.types import (
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
    Snapshot,
)

__all__ = [
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
    "Snapshot",
    "plan",
]
