"""The planner as a replay policy, through the daemon's own acting path.

Each tick runs what a daemon's reconcile runs (``reconciler.control.FleetController``, the
daemon's own): the plan, the guards on the whole plan with the daemon's default safety
settings, the groups' targets, and an executor with AWS's group semantics
(``ReplayGroups``); a launch the groups refuse marks the pool unavailable and is re-placed
within the same tick. What the groups tried is what the engine plays, so the figures are
those of what runs.

Both see only the production signals (``ReplaySignals``: prices, placement scores from the
trace's free capacity, their own nodes held, warned and interrupted, launches tried and
refused), never the trace's capacity. ``planner`` fits the prior (``train_prior``: the ticks
before the window through the same signal mapping, in ``reset``, where only those are
visible); ``planner_no_model`` uses one minus the 24-hour believed availability instead, so
the model's worth shows in the comparison. Handed a ready blend (``blend``: a retrain's
candidate or the live model, ``reconciler.replay.promotion_replay``), it decides with that and
fits nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from analytics.pools import Pool
from reconciler.control import FleetController, FleetFacts, GuardState, HeldNode
from reconciler.core.settings import Cadences, SafetySettings
from reconciler.decide.model import ModelSettings, TrainedModel
from reconciler.decide.planner import Drain, FleetDeclaration, LaunchSpot, PlannerSettings
from reconciler.decide.signal_model import PriorAndOwn, train_prior
from reconciler.replay.fleet_signals import ReplaySignals
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
    # The daemon's collector cadence: a backtest's planner gets scores no more often than AWS's.
    score_every_s: float = field(default_factory=lambda: Cadences().placement_scores_s)
    model: TrainedModel | None = None  # the prior (public traces before the window)
    # A ready decider: used as it is (use_model is then moot), nothing fitted in reset.
    blend: PriorAndOwn | None = None
    _setup: ReplaySetup | None = None

    def reset(self, setup: ReplaySetup) -> None:
        self._setup = setup
        if self.blend is not None:
            self._blend: PriorAndOwn | None = self.blend
        else:
            self._blend = self._fit_prior(setup)
        self._start_state(setup)

    def _fit_prior(self, setup: ReplaySetup) -> PriorAndOwn | None:
        if self.use_model:
            # setup.market ends at the first scored tick: labels stop before it.
            self.model = train_prior(
                setup.market,
                end=setup.start,
                settings=self.model_settings,
                score_every_s=self.score_every_s,
                score_target=setup.k,
                on_iteration=self.on_train_iteration,
            )
        # No fleet ran before the window: no own evidence, the prior decides alone.
        return None if self.model is None else PriorAndOwn(self.model, None, self.model_settings)

    def _start_state(self, setup: ReplaySetup) -> None:
        self._signals = ReplaySignals(
            setup.market,
            start=setup.start,
            end=setup.end,
            score_every_s=self.score_every_s,
            score_target=setup.k,
        )
        self._pool_of: dict[int, int | None] = {}
        self._launched_in: dict[int, int] = {}
        self._last_held: set[int] = set()
        self._terminated: set[int] = set()
        self._losses: list[float] = []
        self._unavailable: dict[str, float] = {}
        self._last_move_at: float | None = None
        self._drained: list[float] = []
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
        now = m.t0 + t * gap
        # Nodes held after the last decision that are gone now, and were not terminated by
        # us, were preempted at this tick: the replay's interruption events.
        current = {n.node_id for n in obs.nodes}
        lost_in: dict[int, int] = {}
        for node_id in self._last_held - current - self._terminated:
            pool = self._pool_of.get(node_id)
            if pool is not None:
                lost_in[pool] = lost_in.get(pool, 0) + 1
        # Nodes launched last tick that did not arrive were taken at once (the groups count
        # only the launches that had a free slot).
        for pool, launched in self._launched_in.items():
            arrived = sum(1 for n in obs.nodes if n.launch_tick == t - 1 and n.pool == pool)
            if launched > arrived:
                lost_in[pool] = lost_in.get(pool, 0) + launched - arrived
        lost = sum(lost_in.values())
        self._losses.extend([now] * lost)
        signals = self._signals.observe(
            t, capacity=obs.history[:, -1], nodes=obs.nodes, lost=lost_in
        )
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
        # The daemon's own controller, on the signals the replay shows at this tick.
        facts = FleetFacts(
            fleet=self._fleet,
            series=None,
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
            model=None,
            signals=signals,
            blend=self._blend,
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
        index = {p: i for i, p in enumerate(pools)}
        tried: dict[int, int] = {}
        refused: dict[int, int] = {}
        for r in outcome.rounds:
            if r.result is None:
                continue
            for node in r.result.launched:
                if node.pool is not None:
                    tried[index[node.pool]] = tried.get(index[node.pool], 0) + 1
            for failure in r.result.failures:
                if failure.pool is not None:
                    i = index[failure.pool]
                    tried[i] = tried.get(i, 0) + 1
                    refused[i] = refused.get(i, 0) + 1
        self._signals.launched(t, tried=tried, refused=refused)
        self._launched_in = {
            i: n - refused.get(i, 0) for i, n in tried.items() if n > refused.get(i, 0)
        }
        self._pool_of = {n.node_id: n.pool for n in obs.nodes}
        self._last_held = current - self._terminated
        return decision
