"""The planner as a replay policy: features → loss probabilities → plan → launches.

``planner`` fits the interruption model on the ticks before the window (in ``reset``,
where only those are visible); ``planner_no_model`` uses the 24-hour availability
baseline instead, so the model's worth shows in the comparison.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from reconciler.decide import decide
from reconciler.market import MarketSeries
from reconciler.model import ModelSettings, TrainedModel, train_model
from reconciler.planner import (
    Drain,
    FleetDeclaration,
    FleetNode,
    LaunchOnDemand,
    LaunchSpot,
    PlannerSettings,
)
from reconciler.replay.types import Decision, Observation, ReplaySetup

__all__ = ["PlannerPolicy"]


@dataclass
class PlannerPolicy:
    name: str = "planner"
    use_model: bool = True
    planner_settings: PlannerSettings = field(default_factory=PlannerSettings)
    model_settings: ModelSettings = field(default_factory=ModelSettings)
    cold_start_s: float = 300.0
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
        m = setup.market
        self._spot = m.spot_price[:, -1].astype(np.float64)
        self._fleet = FleetDeclaration(name="replay", desired_nodes=setup.k)

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
        # Nodes launched last tick that did not arrive were taken at once (the planner never
        # launches without a free slot, so a missing one was not a launch failure).
        arrived = sum(1 for n in obs.nodes if n.launch_tick == t - 1)
        lost += max(0, self._launched - arrived)
        self._losses.extend([now] * lost)
        self._losses = [ts for ts in self._losses if ts > now - self.planner_settings.alert_s]
        index = {p.name: i for i, p in enumerate(m.pools)}
        nodes = tuple(
            FleetNode(
                node_id=str(n.node_id),
                pool=m.pools[n.pool].name if n.pool is not None else None,
                launched_at=m.t0 + n.launch_tick * gap,
                ready_at=m.t0 + n.ready_tick * gap,
            )
            for n in obs.nodes
        )
        # The same call the daemon makes on series read from the history.
        result = decide(
            series,
            fleet=self._fleet,
            nodes=nodes,
            now=now,
            model=self.model,
            model_settings=self.model_settings,
            planner_settings=self.planner_settings,
            cold_start_s=self.cold_start_s,
            recent_losses=tuple(self._losses),
        ).plan
        terminate: list[int] = []
        launches: list[int | None] = []
        for action in result.actions:
            if isinstance(action, Drain):
                terminate.append(int(action.node_id))
            elif isinstance(action, LaunchSpot):
                launches.append(index[action.pool])
            elif isinstance(action, LaunchOnDemand):
                launches.append(None)
        # Launched ids are not known until the engine assigns them; anything new next tick
        # that we did not see before is ours, so only the survivors of this tick are tracked.
        self._terminated = set(terminate)
        self._launched = len(launches)
        self._last_held = current - self._terminated
        return Decision(terminate=tuple(terminate), launches=tuple(launches))
