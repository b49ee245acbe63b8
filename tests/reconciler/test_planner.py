"""The planner: filters and reasons, spares, moves, on-demand fallback and return, no flapping."""

from __future__ import annotations

from dataclasses import replace

from reconciler.decide.planner import (
    Drain,
    FleetDeclaration,
    FleetNode,
    LaunchOnDemand,
    LaunchSpot,
    PlannerSettings,
    PoolView,
    Snapshot,
    plan,
)
from reconciler.decide.planner.filters import (
    HasFreeSlot,
    LossBelow,
    PriceBelowOnDemand,
    run_filters,
)

NOW = 1_000_000.0
# Explicit thresholds, so the tests state the rules, not the tuned defaults.
S = PlannerSettings(max_loss=0.30, spare_risk=0.30, move_risk=0.25, min_gain=0.10, alert_s=1800.0)


def pool(
    zone: str, loss: float = 0.02, capacity: int = 1, spot: float = 0.9, od: float = 3.0
) -> PoolView:
    return PoolView(
        f"{zone[:-1]}/{zone}/p3.2xlarge",
        zone[:-1],
        zone,
        "p3.2xlarge",
        capacity,
        spot,
        od,
        loss,
        "model",
    )


def node(node_id: str, p: PoolView | None, age: float = 7200.0, ready: bool = True) -> FleetNode:
    launched = NOW - age
    return FleetNode(
        node_id, p.name if p else None, launched, launched + 300 if ready else NOW + 100
    )


def snap(pools, nodes=(), k=2, **fleet) -> Snapshot:
    return Snapshot(
        NOW, FleetDeclaration("f", k, **fleet), tuple(pools), tuple(nodes), 1800.0, 300.0
    )


def launches(p):
    return [a.pool for a in p.actions if isinstance(a, LaunchSpot)]


def drains(p):
    return [a.node_id for a in p.actions if isinstance(a, Drain)]


def on_demand_launches(p):
    return sum(isinstance(a, LaunchOnDemand) for a in p.actions)


# Filters -------------------------------------------------------------------------------


def test_loss_filter_rejects_and_says_by_how_much():
    p = pool("us-east-1b", loss=0.42)
    assert (
        LossBelow(0.30).reject(p, 0)
        == "us-east-1/us-east-1b/p3.2xlarge: predicted loss 0.42 > 0.30 (model)"
    )
    assert LossBelow(0.30).reject(pool("us-east-1b", loss=0.3), 0) is None


def test_free_slot_filter_counts_nodes_held():
    p = pool("us-east-1a", capacity=2)
    assert HasFreeSlot().reject(p, 1) is None
    assert "no free spot slot (holding 2 of 2" in (HasFreeSlot().reject(p, 2) or "")


def test_price_filter_rejects_spot_near_on_demand():
    assert PriceBelowOnDemand(0.9).reject(pool("us-east-1a", spot=2.9, od=3.0), 0) is not None
    assert PriceBelowOnDemand(0.9).reject(pool("us-east-1a", spot=0.9, od=3.0), 0) is None


def test_first_failing_filter_is_the_reported_one():
    pools = [pool("us-east-1a", loss=0.5, capacity=0), pool("us-east-1b")]
    r = run_filters(pools, {}, [HasFreeSlot(), LossBelow(0.3)])
    assert [p.zone for p in r.kept] == ["us-east-1b"]
    assert r.rejected[pools[0].name][0] == "has_free_slot"


def test_every_pool_gets_a_verdict_with_a_reason():
    pools = [
        pool("us-east-1a", loss=0.42),
        pool("us-east-1b", loss=0.01),
        pool("us-east-1c", capacity=0),
    ]
    p = plan(snap(pools, k=1), S)
    reasons = p.reasons()
    assert "predicted loss 0.42 > 0.30" in reasons[pools[0].name]
    assert reasons[pools[1].name].startswith("rank 1:")
    assert "no free spot slot" in reasons[pools[2].name]


# Placement ------------------------------------------------------------------------------


def test_empty_fleet_launches_k_into_the_safest_pools():
    pools = [pool("us-east-1a", 0.05), pool("us-east-1b", 0.01), pool("us-east-1c", 0.02)]
    p = plan(snap(pools, k=2), S)
    assert launches(p) == [pools[1].name, pools[2].name]
    assert p.placement.pools[0].pool == pools[1].name
    assert p.placement.pools[0].weight == 1
    assert p.placement.desired_nodes == 2
    assert p.placement.on_demand_base == 0


def test_spare_is_held_only_when_expected_losses_are_high():
    calm = [pool("us-east-1a", 0.01), pool("us-east-1b", 0.01), pool("us-east-1c", 0.01)]
    held = [node("1", calm[0]), node("2", calm[1])]
    assert launches(plan(snap(calm, held, k=2), S)) == []
    risky = [pool("us-east-1a", 0.2), pool("us-east-1b", 0.2), pool("us-east-1c", 0.01)]
    p = plan(snap(risky, held, k=2), S)
    assert p.placement.spare >= 1
    assert launches(p) == [risky[2].name]


def test_node_ahead_of_predicted_loss_is_replaced_first_and_drained_after():
    pools = [pool("us-east-1a", 0.6), pool("us-east-1b", 0.01), pool("us-east-1c", 0.01)]
    settings = replace(S, max_spare=0)
    risky = node("1", pools[0])
    safe = node("2", pools[1])
    p = plan(snap(pools, [risky, safe], k=2), settings)
    assert launches(p) == [pools[2].name]  # launch first...
    assert drains(p) == []  # ...and the risky node keeps serving meanwhile
    assert any(
        "move ahead of predicted loss" in a.reason for a in p.actions if isinstance(a, LaunchSpot)
    )
    replacement = node("3", pools[2], age=400)
    p = plan(snap(pools, [risky, safe, replacement], k=2), settings)
    assert drains(p) == ["1"]  # drain after the replacement is ready


def test_no_move_without_minimum_gain():
    pools = [pool("us-east-1a", 0.35), pool("us-east-1b", 0.01), pool("us-east-1c", 0.3)]
    settings = replace(S, max_spare=0, move_risk=0.25, min_gain=0.10, max_loss=0.5)
    p = plan(snap(pools, [node("1", pools[0]), node("2", pools[1])], k=2), settings)
    assert p.actions == ()


# Fallback and return --------------------------------------------------------------------


def test_on_demand_fills_only_what_spot_cannot_hold():
    pools = [
        pool("us-east-1a", 0.01),
        pool("us-east-1b", capacity=0),
        pool("us-east-1c", capacity=0),
    ]
    p = plan(snap(pools, k=3), replace(S, max_spare=0))
    assert launches(p) == [pools[0].name]
    assert on_demand_launches(p) == 2
    assert p.placement.on_demand_base == 2


def test_risky_spot_is_tried_before_on_demand():
    pools = [pool("us-east-1a", 0.5), pool("us-east-1b", capacity=0)]
    p = plan(snap(pools, k=1), replace(S, max_spare=0))
    assert launches(p) == [pools[0].name]
    assert on_demand_launches(p) == 0
    p = plan(snap(pools, k=1), replace(S, max_spare=0, risky_spot_before_on_demand=False))
    assert launches(p) == []
    assert on_demand_launches(p) == 1


def test_returns_to_spot_once_spot_is_ready_and_on_demand_has_dwelt():
    pools = [pool("us-east-1a"), pool("us-east-1b")]
    spot = [node("1", pools[0]), node("2", pools[1])]
    od_old = node("od", None, age=S.on_demand_dwell_s + 1)
    assert drains(plan(snap(pools, [*spot, od_old], k=2), S)) == ["od"]
    od_new = node("od", None, age=S.on_demand_dwell_s / 2)
    assert drains(plan(snap(pools, [*spot, od_new], k=2), S)) == []  # dwell first


def test_on_demand_stays_while_spot_is_still_starting():
    pools = [pool("us-east-1a"), pool("us-east-1b")]
    nodes = [node("1", pools[0]), node("2", pools[1], ready=False), node("od", None, age=99999)]
    p = plan(snap(pools, nodes, k=2), S)
    assert drains(p) == []
    assert on_demand_launches(p) == 0


def test_on_demand_floor_is_always_held():
    pools = [pool("us-east-1a"), pool("us-east-1b")]
    p = plan(snap(pools, k=2, on_demand_floor=1), S)
    assert on_demand_launches(p) == 1
    assert len(launches(p)) == 1


# No flapping ----------------------------------------------------------------------------


def test_surplus_spare_is_not_drained_before_its_dwell():
    pools = [pool("us-east-1a"), pool("us-east-1b"), pool("us-east-1c")]
    young = node("3", pools[2], age=S.min_dwell_s / 2)
    nodes = [node("1", pools[0]), node("2", pools[1]), young]
    assert drains(plan(snap(pools, nodes, k=2), S)) == []
    old = node("3", pools[2], age=S.min_dwell_s + 1)
    assert drains(plan(snap(pools, [nodes[0], nodes[1], old], k=2), S)) == ["3"]


def test_a_settled_fleet_is_left_alone():
    pools = [pool("us-east-1a", 0.02), pool("us-east-1b", 0.03), pool("us-east-1c", 0.01)]
    nodes = [node("1", pools[0]), node("2", pools[1])]
    # A slightly safer free pool is not worth a move.
    assert plan(snap(pools, nodes, k=2), S).actions == ()


def test_plan_is_deterministic():
    pools = [pool("us-east-1a", 0.05), pool("us-east-1b", 0.01)]
    assert plan(snap(pools, k=1), S) == plan(snap(pools, k=1), S)


def test_a_recent_loss_in_the_fleet_buys_a_spare_for_a_while():
    pools = [pool("us-east-1a", 0.01), pool("us-east-1b", 0.01), pool("us-east-1c", 0.01)]
    held = (node("1", pools[0]), node("2", pools[1]))
    fleet = FleetDeclaration("f", 2)

    def with_loss(ago: float) -> Snapshot:
        return Snapshot(NOW, fleet, tuple(pools), held, 1800.0, 300.0, recent_losses=(NOW - ago,))

    assert launches(plan(with_loss(60), S)) == [pools[2].name]
    assert plan(with_loss(S.alert_s + 60), S).actions == ()


def test_no_alert_spare_where_a_spare_would_cost_a_large_share_of_the_fleet():
    # K=1 at spot 0.9 / on-demand 3.0: a spare is 0.30 of the fleet's on-demand price > 0.20.
    pools = [pool("us-east-1a", 0.01), pool("us-east-1b", 0.01)]
    snapshot = Snapshot(
        NOW,
        FleetDeclaration("f", 1),
        tuple(pools),
        (node("1", pools[0]),),
        1800.0,
        300.0,
        recent_losses=(NOW - 60,),
    )
    assert plan(snapshot, S).actions == ()


def test_the_losses_that_buy_a_spare_scale_with_what_a_spare_costs_next_to_the_fleet():
    # Six pools, each P(loss) 0.2; a spot node costs 0.3 of on-demand. At K=4 one spare is
    # 0.075 of the fleet's on-demand price, half of the reference share (0.15, K=2): the
    # 0.8 expected losses of four nodes buy it; at K=2 the 0.4 of two do not.
    pools = [pool(f"us-east-1{z}", loss=0.2) for z in "abcdef"]
    s = replace(S, max_loss=0.5, spare_risk=1.5, spare_share_ref=0.15)
    at_k4 = plan(snap(pools, k=4), s)
    assert at_k4.placement.spare == 1 and len(launches(at_k4)) == 5
    assert "one per 0.75" in at_k4.placement.reason
    assert plan(snap(pools, k=2), s).placement.spare == 0
    # Without the scaling, one spare per 1.5 expected losses whatever it costs: none at K=4.
    assert plan(snap(pools, k=4), replace(s, spare_share_ref=0.0)).placement.spare == 0


def test_a_fleet_scaled_to_zero_plans_no_spare_and_no_launch():
    # K=0 (a fleet scaled to nothing): a spare's share of the fleet has no meaning, no crash.
    pools = [pool(f"us-east-1{z}", loss=0.2) for z in "abc"]
    p = plan(snap(pools, k=0), replace(S, spare_share_ref=0.15))
    assert p.placement.spare == 0 and launches(p) == []


def test_a_spot_price_missing_from_the_history_does_not_make_spares_free():
    # Spot $0 (no price recorded yet): the scaling stops at half, 0.75 expected losses a spare.
    pools = [pool(f"us-east-1{z}", loss=0.1, spot=0.0) for z in "abcdef"]
    s = replace(S, max_loss=0.5, spare_risk=1.5, spare_share_ref=0.15)
    assert plan(snap(pools, k=4), s).placement.spare == 0
    assert (
        plan(snap([replace(p, loss_probability=0.2) for p in pools], k=4), s).placement.spare == 1
    )
