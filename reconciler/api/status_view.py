"""What the status API asks of a leading daemon, declared here so the API imports nothing from
``reconciler.daemon``: the daemon (above) implements ``LeadingDaemon`` and builds the typed
``DaemonStatus`` view from its memory; the API turns the view into its JSON and its page.

``status()`` is memory only (the API answers it in microseconds even while a job holds the
history); ``ledger`` is for the reads that go to the history (decisions, nodes, the page).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from reconciler.collect.fleet import GroupView
from reconciler.core.controls import FleetControls
from reconciler.core.history.ledger import DecisionRecord, Ledger
from reconciler.core.operator_commands import Command
from reconciler.core.readiness import Readiness
from reconciler.core.settings import FleetTarget, Mode
from reconciler.decide.model import PoolPrediction
from reconciler.decide.model_state import ModelState

__all__ = [
    "BreakerView",
    "DaemonStatus",
    "FleetStatus",
    "JobRun",
    "LeadingDaemon",
    "PlanView",
]


@dataclass(frozen=True, slots=True)
class BreakerView:
    failures: int
    open: bool
    last_error: str | None
    changed_at: str | None  # ISO time of the last change


@dataclass(frozen=True, slots=True)
class JobRun:
    """One scheduled job's runs so far."""

    name: str
    every_s: float
    runs: int
    failures: int
    last_started: str | None
    last_finished: str | None
    last_ok: bool | None
    last_error: str | None
    last_seconds: float | None


@dataclass(frozen=True, slots=True)
class PlanView:
    """What the fleet's last reconcile thought of its pools."""

    predictions: tuple[PoolPrediction, ...]
    prices: Mapping[str, tuple[float, float]]  # pool -> (spot $/h, on-demand $/h)
    verdicts: Mapping[str, str]  # pool -> the planner's reason


@dataclass(frozen=True, slots=True)
class FleetStatus:
    target: FleetTarget
    # The placement as written to the stack config (``spotfleet:placements``'s JSON, camelCase).
    applied_placement: Mapping[str, Any] | None
    applied_at: str | None
    last_decision: DecisionRecord | None
    plan: PlanView | None  # None until the fleet's first reconcile
    group: GroupView | None  # as the fleet job last observed it
    desired_nodes: int | None  # K: what demand asks to serve
    desired_reason: str | None
    drift: tuple[str, ...]  # groups whose count is not the placement in force
    controls: FleetControls  # what operators set by hand, in force


@dataclass(frozen=True, slots=True)
class DaemonStatus:
    now: datetime  # the daemon's clock (a replayed market's, in the embedded default)
    mode: Mode
    breaker: BreakerView
    started_at: datetime
    recovered_actions: int
    jobs: Mapping[str, JobRun]
    fleets: tuple[FleetStatus, ...]
    model: ModelState


class LeadingDaemon(Protocol):
    """A daemon that holds the lease, as the API sees it."""

    @property
    def ledger(self) -> Ledger: ...

    def status(self) -> DaemonStatus: ...
    def readiness(self) -> Readiness: ...
    def leading(self) -> bool: ...
    def reconcile_now(self) -> None: ...
    def request_mode(self, mode: Mode, *, by: str) -> None: ...
    def reset_breaker(self, *, by: str) -> None: ...
    def operate(self, command: Command, *, by: str) -> str: ...
