"""A fleet's one controller, composed once for the daemon and the backtest alike.

A reconcile goes one way: the caller gathers every fact the decision needs into a frozen
``FleetFacts`` (the daemon from its history, the backtest from the replayed market); the
controller decides from it alone (``plan``: pure) and then acts (``act``: the acting loop,
``reconcile_fleet``, whose only I/O is the executor it is given). A launch the cloud refuses
is re-placed from the same facts and the refusals, never from a new read. So what the
backtest measures is what the daemon runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from reconciler.control.guards import GuardState, Limits
from reconciler.control.loop import Outcome, fleet_nodes, reconcile_fleet, restricted
from reconciler.control.types import GroupsExecutor, HeldNode
from reconciler.core.market import MarketSeries
from reconciler.core.reactions import Mark
from reconciler.core.settings import SafetySettings
from reconciler.core.signals import FleetSignals
from reconciler.decide.adapter import Planned, plan_market, plan_signals
from reconciler.decide.model import ModelSettings, TrainedModel
from reconciler.decide.planner import FleetDeclaration, PlannerSettings, plan
from reconciler.decide.signal_model import PriorAndOwn

__all__ = ["FleetController", "FleetFacts", "Reconciled"]


@dataclass(frozen=True)
class FleetFacts:
    """Everything one reconcile of one fleet decides from, read once before deciding."""

    fleet: FleetDeclaration  # K from demand
    series: MarketSeries | None  # the fleet's pools up to now (None: ``signals`` decide)
    recent_losses: tuple[float, ...]  # when the fleet's nodes were lost lately (epoch s)
    nodes: tuple[HeldNode, ...]  # what the groups hold, a warned node marked as going
    guards: GuardState  # mode, lease, breaker, market age, dwell, churn, budget, pause
    unavailable: Mapping[str, float]  # pool -> until (epoch s): refused launches, cordons
    model: TrainedModel | None  # None: the 24-hour availability baseline
    marks: Mapping[str, Mark] = field(default_factory=dict)  # risk marks in force
    # The production signals alone (and the prior/own blend that reads them): when given, the
    # plan is made from these and ``series``/``model`` are not read.
    signals: FleetSignals | None = None
    blend: PriorAndOwn | None = None

    @property
    def now(self) -> float:
        return self.guards.now


@dataclass(frozen=True)
class Reconciled:
    planned: Planned
    outcome: Outcome


@dataclass(frozen=True)
class FleetController:
    limits: Limits
    unavailable_s: float  # a pool that refused a launch takes none for this long
    cold_start_s: float
    planner: PlannerSettings = field(default_factory=PlannerSettings)
    model_settings: ModelSettings = field(default_factory=ModelSettings)

    @classmethod
    def of(
        cls,
        safety: SafetySettings,
        *,
        cold_start_s: float,
        planner: PlannerSettings | None = None,
        model_settings: ModelSettings | None = None,
    ) -> FleetController:
        return cls(
            Limits.of(safety),
            safety.unavailable_s,
            cold_start_s,
            planner or PlannerSettings(),
            model_settings or ModelSettings(),
        )

    def plan(self, facts: FleetFacts) -> Planned:
        """The plan from the facts alone: the warned nodes planned without, marks applied."""
        if facts.signals is not None:
            return plan_signals(
                facts.signals,
                fleet=facts.fleet,
                nodes=fleet_nodes(facts.nodes),
                now=facts.now,
                marks=facts.marks,
                model=facts.blend,
                recent_losses=facts.recent_losses,
                cold_start_s=self.cold_start_s,
                planner_settings=self.planner,
                model_settings=self.model_settings,
            )
        if facts.series is None:
            raise ValueError("FleetFacts needs a market series or the production signals")
        return plan_market(
            facts.series,
            fleet=facts.fleet,
            nodes=fleet_nodes(facts.nodes),
            now=facts.now,
            marks=facts.marks,
            model=facts.model,
            recent_losses=facts.recent_losses,
            cold_start_s=self.cold_start_s,
            planner_settings=self.planner,
            model_settings=self.model_settings,
        )

    def act(self, facts: FleetFacts, planned: Planned, executor: GroupsExecutor) -> Outcome:
        """The guards on the whole plan, the groups' targets, the executor; a refused launch
        re-planned from ``planned``'s snapshot without the refusing pools."""
        return reconcile_fleet(
            nodes=facts.nodes,
            state=facts.guards,
            limits=self.limits,
            replan=lambda unavailable, serving: plan(
                restricted(planned.snapshot, unavailable, serving), self.planner
            ),
            executor=executor,
            price_of=planned.price_of(),
            unavailable=facts.unavailable,
            unavailable_s=self.unavailable_s,
        )

    def reconcile(self, facts: FleetFacts, executor: GroupsExecutor) -> Reconciled:
        planned = self.plan(facts)
        return Reconciled(planned, self.act(facts, planned, executor))
