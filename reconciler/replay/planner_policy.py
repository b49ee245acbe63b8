"""The planner as a replay policy, through the daemon's own acting path.

Each tick runs what a daemon's reconcile runs (``reconciler.control.FleetController``, the
daemon's own): the plan, the guards on the whole plan with the daemon's default safety
settings, the groups' targets, and an executor with AWS's group semantics
(``ReplayGroups``); a launch the groups refuse marks the pool unavailable and is re-placed
within the same tick. What the groups tried is what the engine plays, so the figures are
those of what runs.

``planner`` fits the interruption model on the ticks before the window (in ``reset``,
where only those are visible); ``planner_no_model`` uses the 24-hour availability
baseline instead, so the model's worth shows in the comparison.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from analytics.pools import Pool
from reconciler.control import FleetController, FleetFacts, GuardState, HeldNode
from reconciler.core.market import MarketSeries
from reconciler.core.settings import SafetySettings
from reconciler.decide.model import ModelSettings, TrainedModel, train_model
from reconciler.decide.planner import Drain, FleetDeclaration, LaunchSpot, PlannerSettings
from reconciler.replay.groups import ReplayGroups
from reconciler.replay.types import Decision, Observation, ReplaySetup

__all__ = ["PlannerPolicy"]


@dataclass
class PlannerPolicy:
    name: str = "planner"
    use_model: bool = True
    planner_settings: PlannerSettings = field(default_factory=PlannerSettings)
    model_settings: ModelSettings = field(default_factory=ModelSettings)
    cold_start_s: float = 300.0
    safety: SafetySettings = field(default_factory=SafetySettings)
    on_train_iteration: Callable[[int, int], None] | None = None
    model: TrainedModel | None = None
    _setup: ReplaySetup | None = None

    def reset(self, setup: ReplaySetup) -> None:
        self._setup = setup
        if self.use_model:
            # setup.market ends at the first scored tick: labels stop before it.
            self.model = train_model(
                setup.market,
                end=setup.start,
                settings=self.model_settings,
                on_iteration=self.on_train_iteration,
            )
        self._last_held: set[int] = set()
        self._terminated: set[int] = set()
        self._launched = 0
        self._losses: list[float] = []
        self._unavailable: dict[str, float] = {}
        self._last_move_at: float | None = None
        self._drained: list[float] = []
        m = setup.market
        self._spot = m.spot_price[:, -1].astype(np.float64)
        self._fleet = FleetDeclaration(name="replay", desired_nodes=setup.k)
        self._controller = FleetController.of(
            self.safety,
            cold_start_s=self.cold_start_s,
            planner=self.planner_settings,
            model_settings=self.model_settings,
        )

    def decide(self, obs: Observation) -> Decision:
        assert self._setup is not None, "reset() first"
        m = self._setup.market
        gap = m.gap_seconds
        t = obs.tick
        series = MarketSeries(
            pools=m.pools,
            gap_seconds=gap,
            t0=m.t0,
            capacity=obs.history,
            spot_price=np.broadcast_to(self._spot[:, None], obs.history.shape),
            on_demand_price=m.on_demand_price,
            advisor_band=m.advisor_band,
        )
        now = m.t0 + t * gap
        # Nodes held after the last decision that are gone now, and were not terminated by
        # us, were preempted at this tick: the replay's interruption events.
        current = {n.node_id for n in obs.nodes}
        lost = len(self._last_held - current - self._terminated)
        # Nodes launched last tick that did not arrive were taken at once (the groups count
        # only the launches that had a free slot).
        arrived = sum(1 for n in obs.nodes if n.launch_tick == t - 1)
        lost += max(0, self._launched - arrived)
        self._losses.extend([now] * lost)
        self._losses = [ts for ts in self._losses if ts > now - self.planner_settings.alert_s]
        pools = tuple(Pool.parse(p.name) for p in m.pools)
        held = tuple(
            HeldNode(
                instance_id=str(n.node_id),
                pool=pools[n.pool] if n.pool is not None else None,
                launched_at=m.t0 + n.launch_tick * gap,
                ready_at=m.t0 + n.ready_tick * gap,
            )
            for n in obs.nodes
        )
        groups = ReplayGroups(
            pools=pools,
            nodes=obs.nodes,
            capacity=obs.history[:, -1],
            ready_after_s=self._setup.ready_delay * gap,
        )
        # The daemon's own controller, on the facts the replay shows at this tick.
        facts = FleetFacts(
            fleet=self._fleet,
            series=series,
            recent_losses=tuple(self._losses),
            nodes=held,
            guards=GuardState(
                now=now,
                acting_mode=True,
                leader=True,
                breaker_open=False,
                market_age_s=0.0,  # the replay observes every pool every tick
                last_move_at=self._last_move_at,
                drained_last_hour=sum(1 for ts in self._drained if ts > now - 3600),
                budget_usd_per_hour=None,
            ),
            unavailable=self._unavailable,
            model=self.model,
        )
        outcome = self._controller.reconcile(facts, groups).outcome
        self._unavailable = dict(outcome.unavailable)
        for r in outcome.rounds:
            for action in r.verdict.allowed:
                if isinstance(action, LaunchSpot) and action.purpose == "move":
                    self._last_move_at = now
                if isinstance(action, Drain) and action.pool is not None:
                    self._drained.append(now)
        decision = groups.decision()
        # Launched ids are not known until the engine assigns them; anything new next tick
        # that we did not see before is ours, so only the survivors of this tick are tracked.
        self._terminated = set(decision.terminate)
        self._launched = sum(len(r.result.launched) for r in outcome.rounds if r.result)
        self._last_held = current - self._terminated
        return decision
