"""The fleet's one controller (``reconciler.control.FleetController``), as the daemon and the
backtest both run it: it decides from the gathered facts alone, and a refused launch is
re-placed from those same facts plus the refusals.

The executor is the backtest's own per-pool groups (``ReplayGroups``), so the refusals are
what AWS-like groups without room really do.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import numpy as np

from analytics.pools import Pool
from reconciler.control import FleetController, FleetFacts, GuardState, fleet_nodes, restricted
from reconciler.core.reactions import Mark
from reconciler.core.settings import SafetySettings
from reconciler.decide.planner import FleetDeclaration, LaunchSpot, plan
from reconciler.replay.groups import ReplayGroups

from .helpers import market

GAP = 300
TICKS = 300  # 25 hours: every pool watched long enough for its own estimate
SERIES = market([[8] * TICKS, [8] * TICKS, [8] * TICKS], gap=GAP, t0=1_700_000_000.0)
NOW = SERIES.t0 + (TICKS - 1) * GAP
POOLS = tuple(Pool.parse(p.name) for p in SERIES.pools)
CONTROLLER = FleetController.of(SafetySettings(), cold_start_s=300.0)


def facts(**overrides: object) -> FleetFacts:
    base = FleetFacts(
        fleet=FleetDeclaration("f", 3),
        series=SERIES,
        recent_losses=(),
        nodes=(),
        guards=GuardState(
            now=NOW,
            acting_mode=True,
            leader=True,
            breaker_open=False,
            market_age_s=60.0,
            last_move_at=None,
            drained_last_hour=0,
            budget_usd_per_hour=None,
        ),
        unavailable={},
        model=None,
    )
    return dataclasses.replace(base, **overrides)  # type: ignore[arg-type]


def launched_pools(actions: tuple[object, ...]) -> set[str]:
    return {a.pool for a in actions if isinstance(a, LaunchSpot)}


def test_the_same_facts_give_the_same_plan() -> None:
    first, second = CONTROLLER.plan(facts()), CONTROLLER.plan(facts())
    assert first.plan == second.plan
    assert first.plan.decision_id == second.plan.decision_id
    assert launched_pools(first.plan.actions)  # it does launch: K=3 on an empty fleet


def test_a_refused_launch_is_re_placed_from_the_gathered_facts_and_the_refusals() -> None:
    given = facts()
    planned = CONTROLLER.plan(given)
    chosen = launched_pools(planned.plan.actions)
    # The market said the chosen pools had room; the groups have none there now.
    groups = ReplayGroups(
        pools=POOLS,
        nodes=(),
        capacity=np.array([0 if p.name in chosen else 8 for p in POOLS], dtype=np.int32),
        ready_after_s=300.0,
    )
    outcome = CONTROLLER.act(given, planned, groups)

    assert outcome.rounds[0].plan == planned.plan  # the first round is the decided plan
    assert {f.pool.name for f in outcome.rounds[0].result.failures if f.pool} == chosen  # type: ignore[union-attr]
    replanned = outcome.rounds[1].plan
    # The re-plan is the gathered snapshot restricted by the refusals: nothing read anew.
    assert replanned == plan(
        restricted(planned.snapshot, frozenset(chosen), fleet_nodes(given.nodes)),
        CONTROLLER.planner,
    )
    assert not launched_pools(replanned.actions) & chosen
    assert outcome.last.targets.total() == 3
    assert set(outcome.unavailable) == chosen


def test_a_marked_pool_is_planned_at_its_marks_loss_and_says_so() -> None:
    marked = POOLS[0].name
    mark = Mark(marked, 0.95, datetime.fromtimestamp(NOW + 600, UTC), "spot warning at 12:00", True)
    planned = CONTROLLER.plan(facts(marks={marked: mark}))
    view = next(p for p in planned.snapshot.pools if p.name == marked)
    assert (view.loss_probability, view.basis) == (0.95, "marked")
    assert "spot warning at 12:00" in planned.reasons[marked]
    assert marked not in launched_pools(planned.plan.actions)
