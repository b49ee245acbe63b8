"""The acting side's boundary: the fleet as its groups hold it, and what the groups must hold.

A fleet runs as one spot Auto Scaling group per candidate pool (one instance type in one
subnet) plus one on-demand group (``stacks/``). The controller's output is therefore a node
count per pool and for on-demand, and the nodes to drain by name: exactly what AWS's
``SetDesiredCapacity`` and ``TerminateInstanceInAutoScalingGroup`` carry out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from analytics.pools import Pool

__all__ = [
    "ExecResult",
    "GroupHolding",
    "GroupTargets",
    "GroupsExecutor",
    "GroupsReader",
    "HeldNode",
    "LaunchFailure",
]


@dataclass(frozen=True, slots=True)
class HeldNode:
    """A node one of the fleet's groups holds. ``pool`` is None in the on-demand group."""

    instance_id: str
    pool: Pool | None
    launched_at: float  # epoch seconds
    ready_at: float  # epoch seconds: launch + cold start
    warned: bool = False  # AWS said it is going (spot notice, scheduled stop or retirement)


@dataclass(frozen=True, slots=True)
class GroupHolding:
    """What one group holds now, as Auto Scaling says: its desired capacity and members."""

    pool: Pool | None  # None: the on-demand group
    desired: int
    instances: tuple[str, ...]  # members not terminating or detaching


@dataclass(frozen=True, slots=True)
class LaunchFailure:
    """A launch the cloud refused (InsufficientInstanceCapacity and the like)."""

    pool: Pool | None  # None: the on-demand group
    at: float
    message: str


@dataclass(frozen=True)
class GroupTargets:
    """What every group of the fleet must hold after this reconcile.

    ``drain`` names nodes to terminate through their group's termination hook, decrementing
    the group's desired capacity, so the group never relaunches them in place; the counts are
    what each group holds once they are gone.
    """

    spot: Mapping[Pool, int]
    on_demand: int
    drain: tuple[str, ...] = ()

    def total(self) -> int:
        return sum(self.spot.values()) + self.on_demand


@dataclass(frozen=True)
class ExecResult:
    """What the cloud did with a set of targets."""

    launched: tuple[HeldNode, ...] = ()
    failures: tuple[LaunchFailure, ...] = ()
    changed: tuple[str, ...] = field(default=())  # one line per group changed or node drained

    @property
    def summary(self) -> str:
        return "; ".join(self.changed) if self.changed else "groups already hold the targets"


class GroupsExecutor(Protocol):
    """Makes the fleet's groups hold ``targets``: AWS's Auto Scaling API in the daemon (real or
    the embedded default's), the replay's groups in a backtest."""

    def apply(self, targets: GroupTargets, *, now: float) -> ExecResult: ...


class GroupsReader(GroupsExecutor, Protocol):
    """The daemon's executor, which can also say what the groups hold now (AWS's Auto Scaling
    API). The history records new instances only at the next fleet observation; a reconcile
    right after another that launched must count them, or it sizes the groups without them."""

    def holding(self) -> tuple[GroupHolding, ...]: ...
