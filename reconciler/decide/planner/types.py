"""The planner's boundary: the snapshot it reads and the plan it returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

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
    "PoolVerdict",
    "PoolView",
    "Purpose",
    "Snapshot",
]

# Why an action is in the plan. The acting side's guards read it: ``fill``, ``spare`` and
# ``fallback`` keep the fleet serving (recovery, never held back by a pace-of-change guard);
# ``move``, ``moved``, ``surplus`` and ``back_to_spot`` optimise (dwell and churn slow them).
Purpose = Literal["fill", "spare", "fallback", "move", "moved", "surplus", "back_to_spot"]
RECOVERY: frozenset[Purpose] = frozenset({"fill", "spare", "fallback"})


@dataclass(frozen=True, slots=True)
class PoolView:
    """One candidate pool as the planner sees it now."""

    name: str  # region/zone/instance_type
    region: str
    zone: str
    instance_type: str
    capacity: int  # spot instances that can be held now, as last observed
    spot_price: float  # $/h
    on_demand_price: float  # $/h
    loss_probability: float  # P(capacity drops within the horizon)
    basis: str  # 'model', 'baseline', 'advisor_prior'


@dataclass(frozen=True, slots=True)
class FleetNode:
    """A node the fleet holds. ``pool`` is None for an on-demand node."""

    node_id: str
    pool: str | None
    launched_at: float  # epoch seconds
    ready_at: float  # epoch seconds (launch + cold start)

    def ready(self, now: float) -> bool:
        return self.ready_at <= now


@dataclass(frozen=True, slots=True)
class FleetDeclaration:
    """What people declared for the fleet (stack config)."""

    name: str
    desired_nodes: int  # K: ready nodes the fleet must serve with
    on_demand_floor: int = 0  # on-demand nodes held whatever the market does
    max_nodes: int | None = None  # ceiling on spot + on-demand, spares included


@dataclass(frozen=True)
class Snapshot:
    """Everything one decision reads. ``now`` arrives here; the planner never reads a clock."""

    now: float  # epoch seconds
    fleet: FleetDeclaration
    pools: tuple[PoolView, ...]
    nodes: tuple[FleetNode, ...]
    horizon_s: float  # the horizon of every pool's loss_probability
    cold_start_s: float  # launch to ready
    # When the fleet last lost nodes to interruptions (epoch seconds, any pool): losses come
    # in bursts, so a recent one is a warning the model's per-pool view does not carry.
    recent_losses: tuple[float, ...] = ()


@dataclass(frozen=True, slots=True)
class LaunchSpot:
    pool: str
    reason: str
    purpose: Purpose = "fill"


@dataclass(frozen=True, slots=True)
class LaunchOnDemand:
    region: str | None
    reason: str
    purpose: Purpose = "fallback"


@dataclass(frozen=True, slots=True)
class Drain:
    """Take a node out of service (drain its work, then terminate)."""

    node_id: str
    pool: str | None
    reason: str
    purpose: Purpose = "surplus"


Action = LaunchSpot | LaunchOnDemand | Drain


@dataclass(frozen=True, slots=True)
class PlacementPool:
    pool: str
    priority: int  # 0 first
    weight: int  # nodes planned in this pool (0: a ranked fallback, used if the others fail)


@dataclass(frozen=True)
class Placement:
    """Pool terms only; the daemon maps zones to subnets when it writes stack config."""

    fleet: str
    pools: tuple[PlacementPool, ...]
    on_demand_base: int
    desired_nodes: int  # spot + on-demand nodes planned, spares included
    spare: int  # spot nodes planned beyond K because of predicted risk
    reason: str


@dataclass(frozen=True, slots=True)
class PoolVerdict:
    """Why a pool was kept and how it ranked, or which filter rejected it."""

    pool: str
    kept: bool
    score: float | None  # expected $/h of a node there (lower is better); None if rejected
    reason: str


@dataclass(frozen=True)
class Plan:
    decision_id: str
    placement: Placement
    actions: tuple[Action, ...]
    verdicts: tuple[PoolVerdict, ...]
    summary: str

    def reasons(self) -> dict[str, str]:
        return {v.pool: v.reason for v in self.verdicts}
