"""The acting loop: guards on the whole plan, refused launches re-placed in the same reconcile,
warned nodes replaced whatever the dwell, launch before drain, the budget on scaling.

The executor is the backtest's own per-pool groups (``ReplayGroups``) over a hand-made tick,
so every assertion is about what a fleet of AWS-like groups would really hold.
"""

from __future__ import annotations

import numpy as np

from analytics.pools import Pool
from reconciler.control import (
    GuardState,
    HeldNode,
    Limits,
    Outcome,
    reconcile_fleet,
    restricted,
)
from reconciler.decide.planner import (
    FleetDeclaration,
    PlannerSettings,
    PoolView,
    Snapshot,
    plan,
)
from reconciler.replay.groups import ReplayGroups
from reconciler.replay.types import Node

NOW = 1_000_000.0
GAP = 300
S = PlannerSettings(max_loss=0.30, spare_risk=10.0, move_risk=0.25, min_gain=0.10)
LIMITS = Limits(min_dwell_s=1800.0, churn_per_hour=4, stale_after_s=900.0)
A, B, C = (Pool("us-east-1", z, "p3.2xlarge") for z in ("us-east-1a", "us-east-1b", "us-east-1c"))
POOLS = (A, B, C)
OD_PRICE = 3.0


def view(p: Pool, *, loss: float = 0.02, capacity: int = 4, spot: float = 0.9) -> PoolView:
    return PoolView(p.name, p.region, p.zone, p.instance_type, capacity, spot, OD_PRICE, loss, "m")


def state(**overrides: object) -> GuardState:
    fields: dict[str, object] = {
        "now": NOW,
        "acting_mode": True,
        "leader": True,
        "breaker_open": False,
        "market_age_s": 60.0,
        "last_move_at": None,
        "drained_last_hour": 0,
        "budget_usd_per_hour": None,
    }
    fields.update(overrides)
    return GuardState(**fields)  # type: ignore[arg-type]


def held(node_id: int, p: Pool | None, *, age: float = 7200.0, warned: bool = False) -> HeldNode:
    return HeldNode(str(node_id), p, NOW - age, NOW - age + 300, warned)


def run(
    views: tuple[PoolView, ...],
    nodes: tuple[HeldNode, ...],
    *,
    capacity: tuple[int, ...],
    k: int = 2,
    guard: GuardState | None = None,
    settings: PlannerSettings = S,
) -> tuple[Outcome, ReplayGroups]:
    """One reconcile: the planner sees ``views``; the groups have ``capacity`` per pool."""
    snapshot = Snapshot(NOW, FleetDeclaration("f", k), views, (), 7200.0, 300.0)
    index = {p: i for i, p in enumerate(POOLS)}
    groups = ReplayGroups(
        pools=POOLS,
        nodes=tuple(
            Node(int(n.instance_id), index[n.pool] if n.pool else None, 0, 1) for n in nodes
        ),
        capacity=np.array(capacity, dtype=np.int32),
        ready_after_s=300.0,
    )
    price_of: dict[str | None, float] = {v.name: v.spot_price for v in views}
    price_of[None] = OD_PRICE
    outcome = reconcile_fleet(
        nodes=nodes,
        state=guard or state(),
        limits=LIMITS,
        replan=lambda unavailable, serving: plan(
            restricted(snapshot, unavailable, serving), settings
        ),
        executor=groups,
        price_of=price_of,
        unavailable={},
        unavailable_s=180.0,
    )
    return outcome, groups


def test_a_refused_launch_is_re_placed_in_another_pool_within_the_same_reconcile() -> None:
    # The planner believes A (the cheapest) has room; the cloud has none there now.
    views = (view(A, spot=0.5), view(B, spot=0.9), view(C, spot=1.2))
    outcome, groups = run(views, (), capacity=(0, 4, 4))
    assert len(outcome.rounds) == 2
    assert [f.pool for f in outcome.rounds[0].result.failures] == [A]  # type: ignore[union-attr]
    assert outcome.last.targets.spot.get(A, 0) == 0
    assert outcome.last.targets.total() == 2
    assert A.name in outcome.unavailable and outcome.unavailable[A.name] == NOW + 180.0
    # The engine is handed the refused launch first, then the ones that landed elsewhere.
    launches = groups.decision().launches
    assert launches[0] == 0 and all(t != 0 for t in launches[1:]) and len(launches) == 3


def test_when_no_pool_can_take_a_launch_on_demand_fills_in_the_same_reconcile() -> None:
    views = (view(A), view(B), view(C))
    outcome, groups = run(views, (), capacity=(0, 0, 0))
    final = outcome.last.targets
    assert final.on_demand == 2 and sum(final.spot.values()) == 0
    assert sorted(outcome.unavailable) == sorted(p.name for p in POOLS)
    assert groups.decision().launches.count(None) == 2


def test_a_warned_nodes_replacement_goes_to_another_pool_whatever_the_dwell() -> None:
    # A is marked (a warning: its loss taken as 0.95); a move started a minute ago, so the
    # dwell is in force.
    views = (view(A, loss=0.95), view(B), view(C))
    nodes = (held(1, A, warned=True), held(2, B))
    outcome, _ = run(views, nodes, capacity=(4, 4, 4), guard=state(last_move_at=NOW - 60))
    final = outcome.last
    assert final.result is not None
    assert final.targets.drain == ("1",)
    assert final.targets.spot.get(A, 0) == 0
    assert sum(final.targets.spot.values()) == 2  # B's node plus the replacement
    assert not final.verdict.held_back


def test_a_move_launches_first_and_drains_only_once_its_replacement_is_ready() -> None:
    risky = (view(A, loss=0.40), view(B), view(C))
    nodes = (held(1, A), held(2, A))
    first, _ = run(risky, nodes, capacity=(4, 4, 4))
    targets = first.last.targets
    assert targets.drain == () and targets.spot[A] == 2  # both still serve
    assert targets.total() == 4  # their replacements launch alongside
    # A reconcile later, the replacements are ready: now the risky nodes go.
    replacements = (
        HeldNode("3", B, NOW - 600, NOW - 300),
        HeldNode("4", C, NOW - 600, NOW - 300),
    )
    later, _ = run(risky, (*nodes, *replacements), capacity=(4, 4, 4))
    assert sorted(later.last.targets.drain) == ["1", "2"]
    assert later.last.targets.total() == 2


def test_pace_guards_never_hold_back_recovery() -> None:
    views = (view(A), view(B), view(C))
    guard = state(breaker_open=True, market_age_s=10_000.0, last_move_at=NOW - 1)
    outcome, _ = run(views, (), capacity=(4, 4, 4), guard=guard)
    assert outcome.last.targets.total() == 2 and not outcome.last.verdict.held_back


def test_the_budget_caps_scaling() -> None:
    views = (view(A, spot=1.0), view(B, spot=1.0), view(C, spot=1.0))
    guard = state(budget_usd_per_hour=2.5)
    outcome, _ = run(views, (), capacity=(4, 4, 4), k=4, guard=guard)
    assert outcome.last.targets.total() == 2  # $2/h of spot fits under $2.50/h; a third won't
    assert all("budget" in why for _, why in outcome.last.verdict.held_back)
    assert len(outcome.last.verdict.held_back) == 2


def test_shadow_mode_decides_but_hands_the_groups_nothing() -> None:
    views = (view(A), view(B), view(C))
    outcome, groups = run(views, (), capacity=(4, 4, 4), guard=state(acting_mode=False))
    assert not outcome.applied and outcome.last.result is None
    assert groups.decision().launches == () and outcome.last.targets.total() == 2
    assert "shadow" in outcome.last.verdict.reason
