"""The status page's snapshot: everything ``render_status_page`` shows, read once per request.

Frozen and typed, so the renderer is a pure function of it (tests build one by hand). Every
time is UTC with its zone; "now" is the daemon's clock, which may be a replayed market clock
years in the past.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from reconciler.core.controls import NO_CONTROLS, FleetControls
from reconciler.core.history.cost_reads import FleetCost
from reconciler.core.history.status_reads import DecisionRow, OperatorActionRow, StepSeries

__all__ = [
    "DecisionRow",
    "FleetCost",
    "FleetPage",
    "ModelPanel",
    "OperatorActionRow",
    "PoolRow",
    "StatusPageView",
    "StepSeries",
]


@dataclass(frozen=True, slots=True)
class PoolRow:
    """A pool of the fleet: its live nodes, and what the last reconcile thought of it."""

    pool: str
    spot_nodes: int
    on_demand_nodes: int
    probability: float | None = None  # predicted loss within the horizon
    basis: str | None = None  # where the probability came from: 'model', 'baseline', ...
    spot_price: float | None = None  # $/h
    on_demand_price: float | None = None  # $/h
    verdict: str | None = None  # the planner's reason: 'rank 1 ...', 'rejected: ...'

    @property
    def nodes(self) -> int:
        return self.spot_nodes + self.on_demand_nodes


@dataclass(frozen=True, slots=True)
class FleetPage:
    name: str
    group_desired: int | None  # the Auto Scaling group's desired capacity, as last observed
    instances: int | None  # instances in the group, as last observed
    wanted_nodes: int | None  # K: what demand asks to serve
    wanted_reason: str | None
    pools: tuple[PoolRow, ...]
    decisions: tuple[DecisionRow, ...]  # newest first
    placement_scores: tuple[StepSeries, ...]  # one per charted pool scored in the window
    node_count: StepSeries | None  # the fleet's live nodes over the window
    cost: FleetCost
    jobs: tuple[tuple[str, int], ...]  # (state, count), in the order shown
    uncharted_pools: int = 0  # pools of the table left out of the chart
    drift: tuple[str, ...] = ()  # groups whose count is not the placement in force
    controls: FleetControls = NO_CONTROLS  # what operators set by hand, in force
    operator_actions: tuple[OperatorActionRow, ...] = ()  # newest first


@dataclass(frozen=True, slots=True)
class ModelPanel:
    """Which model decides and why; the last candidate and why it does or does not."""

    deciding: str  # a model id, or 'baseline'
    reason: str
    candidate_id: str | None = None
    candidate_reason: str | None = None
    window: str | None = None  # the days the last candidate was scored on
    replayed: str | None = None  # how each served those days through the decision path


@dataclass(frozen=True, slots=True)
class StatusPageView:
    role: Literal["leader", "standby"]
    now: datetime | None  # the daemon's clock (a standby has none)
    window_s: float  # how far back the chart reaches from ``now``
    lease_holder: str | None = None  # a standby says who leads
    mode: str | None = None
    breaker_open: bool = False
    started_at: datetime | None = None
    failing_jobs: tuple[tuple[str, str], ...] = ()  # (schedule job, its last error)
    extras: tuple[tuple[str, object], ...] = ()  # the embedding's "Run" panel, in order
    extras_error: str | None = None  # the extras callable failed: this, instead of them
    fleets: tuple[FleetPage, ...] = ()
    model: ModelPanel | None = None
    refresh_s: int = 10

    @property
    def window_start(self) -> datetime | None:
        """Where the chart's window opens: ``window_s`` before ``now``."""
        return None if self.now is None else self.now - timedelta(seconds=self.window_s)
