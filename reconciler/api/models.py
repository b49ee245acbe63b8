"""What the status API answers, as typed models: its OpenAPI schema is built from these.

The placement keeps the stack config's camelCase (``spotfleet:placements``, stacks/spec.py),
so what ``/status`` shows is what an operator would find in the stack.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from reconciler.core.controls import FleetControls
from reconciler.core.readiness import Readiness, Reason
from reconciler.core.settings import Mode

__all__ = [
    "Accepted",
    "BreakerOut",
    "DecisionOut",
    "FleetStatusOut",
    "HealthOut",
    "JobOut",
    "JsonScalar",
    "LastDecisionOut",
    "ModeIn",
    "ModelComparisonOut",
    "ModelOut",
    "ModelReplayedOut",
    "ModelScoresOut",
    "NodeOut",
    "PlacementOut",
    "PoolCountOut",
    "PoolOut",
    "Problem",
    "ReadinessOut",
    "SignalOut",
    "StatusOut",
]

# An embedding process's extras (the demo's Run panel): JSON's scalar types only.
JsonScalar = str | int | float | bool | None


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class HealthOut(_Out):
    ok: bool


class SignalOut(_Out):
    name: str
    age_s: float  # wall seconds since its last success (before the first: since it was added)
    stale_after_s: float
    stale: bool
    succeeded: bool
    last_error: str | None


class ReadinessOut(_Out):
    ready: bool
    reason: Reason  # a fixed code, also the readiness metric's label
    detail: str  # what is wrong, in words
    signals: tuple[SignalOut, ...] = ()

    @classmethod
    def of(cls, r: Readiness) -> ReadinessOut:
        return cls(
            ready=r.ready,
            reason=r.reason,
            detail=r.detail,
            signals=tuple(
                SignalOut(
                    name=s.name,
                    age_s=round(s.age_s, 3),
                    stale_after_s=s.stale_after_s,
                    stale=s.stale,
                    succeeded=s.succeeded,
                    last_error=s.last_error,
                )
                for s in r.signals
            ),
        )


class BreakerOut(_Out):
    failures: int
    open: bool
    last_error: str | None
    changed_at: str | None


class JobOut(_Out):
    name: str
    every_s: float
    runs: int
    failures: int
    last_started: str | None
    last_finished: str | None
    last_ok: bool | None
    last_error: str | None
    last_seconds: float | None


class PoolCountOut(_Out):
    """One pool's group and the nodes it holds."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    instanceType: str
    subnetId: str
    nodes: int


class PlacementOut(_Out):
    """A fleet's placement as written to ``spotfleet:placements``: what each group holds."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    pools: tuple[PoolCountOut, ...]
    onDemand: int
    decisionId: str | None = None
    reason: str | None = None


class LastDecisionOut(_Out):
    decision_id: str
    ts: str
    changed: bool
    applied: bool
    reason: str


class FleetStatusOut(_Out):
    current_placement: PlacementOut | None  # applied, as the daemon last wrote it
    applied_at: str | None
    desired_placement: PlacementOut | None  # the last decision's
    last_decision: LastDecisionOut | None
    group_desired: int | None
    instances: int | None
    desired_nodes: int | None  # K: what demand asks to serve
    desired_reason: str | None
    drift: tuple[str, ...] = ()  # groups whose count is not the placement in force
    controls: FleetControls = FleetControls()  # what operators set by hand, in force


class ModelScoresOut(_Out):
    auc: float | None  # None: the window holds no loss (or nothing else), which ranks nothing
    brier: float | None
    rows: int  # labelled pool-ticks scored
    losses: int


class ReplayedFiguresOut(_Out):
    availability: float  # the share of the window's ticks with K nodes ready
    cost_ratio: float  # cost over K on-demand nodes


class ModelReplayedOut(_Out):
    """The judging window replayed through the daemon's decision path with each decider."""

    candidate: ReplayedFiguresOut
    baseline: ReplayedFiguresOut
    live: ReplayedFiguresOut | None
    node_ticks: int  # ticks x K over the fleets replayed


class ModelComparisonOut(_Out):
    """A candidate, the live model and the baseline on the days the candidate did not fit."""

    window_from: str
    window_until: str
    candidate: ModelScoresOut
    baseline: ModelScoresOut
    live: ModelScoresOut | None
    live_id: str | None
    live_saw_window: bool
    promoted: bool
    reason: str
    replayed: ModelReplayedOut | None = None  # None: judged on the scores alone


class ModelOut(_Out):
    """Which model decides and why; the last candidate and how it compared."""

    deciding: str  # a model id, or 'baseline'
    reason: str
    promoted_at: str | None
    comparison: ModelComparisonOut | None  # what promoted the deciding model
    candidate_id: str | None
    candidate: ModelComparisonOut | None


class StatusOut(_Out):
    """A standby answers ``role`` and ``lease_holder``; a leader the rest. ``embedded`` and
    ``embedded_error`` appear only when the process passes extras."""

    role: Literal["leader", "standby"]
    lease_holder: str | None = None
    mode: Mode | None = None
    breaker: BreakerOut | None = None
    started_at: str | None = None
    recovered_actions: int | None = None
    readiness: ReadinessOut | None = None
    jobs: dict[str, JobOut] = {}
    fleets: dict[str, FleetStatusOut] = {}
    model: ModelOut | None = None
    embedded: dict[str, JsonScalar] | None = None
    embedded_error: str | None = None


class PoolOut(_Out):
    fleet: str
    pool: str
    probability: float  # predicted loss over the model's horizon
    basis: str
    prediction: str  # why the model (or baseline, or mark) says so
    spot_price: float | None
    on_demand_price: float | None
    reason: str | None  # the planner's verdict


class DecisionOut(_Out):
    decision_id: str
    ts: str
    fleet: str
    mode: str
    placement: PlacementOut | None
    desired_nodes: int | None
    changed: bool
    applied: bool
    reason: str
    reasons: dict[str, str] | None


class NodeOut(_Out):
    instance_id: str
    fleet: str
    pool: str | None
    lifecycle: str | None
    state: str | None
    launched_at: str | None
    terminated_at: str | None
    observed_at: str | None


class ModeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mode: Mode


class Accepted(_Out):
    ok: bool
    detail: str


class Problem(_Out):
    detail: str
