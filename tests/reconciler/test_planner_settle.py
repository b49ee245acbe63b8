"""On-demand stays as the spare while the spot that replaced it is new, where spot has no room."""

from __future__ import annotations

from dataclasses import replace

from reconciler.decide.planner import Drain, FleetNode, plan
from tests.reconciler.test_planner import NOW, S, node, pool, snap

SETTLE = replace(S, on_demand_settle_s=3600.0, max_spare=0)


def ready_for(node_id: str, p, seconds: float) -> FleetNode:
    """A spot node that has been ready (serving) for ``seconds``."""
    return FleetNode(node_id, p.name, NOW - seconds - 300, NOW - seconds)


def drained(result) -> list[str]:
    return [a.node_id for a in result.actions if isinstance(a, Drain)]


def test_on_demand_stays_while_the_spot_that_replaced_it_is_new_and_spot_is_full():
    pools = [pool("us-east-1a"), pool("us-east-1b")]  # one slot each, both held: no room
    od = node("od", None, age=99999)
    nodes = [ready_for("1", pools[0], 99999), ready_for("2", pools[1], 600), od]
    assert drained(plan(snap(pools, nodes, k=2), SETTLE)) == []
    # Once the new spot node has been ready for on_demand_settle_s, back to spot.
    nodes[1] = ready_for("2", pools[1], 3601)
    assert drained(plan(snap(pools, nodes, k=2), SETTLE)) == ["od"]


def test_where_spot_has_room_for_a_spare_on_demand_goes_as_soon_as_spot_is_ready():
    pools = [pool("us-east-1a"), pool("us-east-1b"), pool("us-east-1c")]  # c is free
    nodes = [ready_for("1", pools[0], 99999), ready_for("2", pools[1], 600), node("od", None)]
    assert drained(plan(snap(pools, nodes, k=2), SETTLE)) == ["od"]


def test_on_demand_spares_are_the_new_spots_expected_losses_and_at_least_one():
    # K=2, two new spot nodes and three on-demand: the on-demand nodes that stay as spares
    # are the expected losses of the new spot (rounded up), never fewer than one, never
    # more than one per new spot node.
    risky = replace(SETTLE, max_loss=0.9, move_risk=0.9)
    for loss, staying in ((0.02, 1), (0.3, 1), (0.7, 2)):
        pools = [pool("us-east-1a", loss=loss), pool("us-east-1b", loss=loss)]
        nodes = [
            ready_for("1", pools[0], 600),
            ready_for("2", pools[1], 600),
            *(node(f"od{i}", None, age=99999 - i) for i in range(3)),
        ]
        assert len(drained(plan(snap(pools, nodes, k=2), risky))) == 3 - staying, loss


def test_a_pool_predicted_safe_needs_no_on_demand_spare():
    pools = [pool("us-east-1a", loss=0.01), pool("us-east-1b", loss=0.01)]
    nodes = [ready_for("1", pools[0], 99999), ready_for("2", pools[1], 600), node("od", None)]
    safe = replace(SETTLE, settle_below_loss=0.05)
    assert drained(plan(snap(pools, nodes, k=2), safe)) == ["od"]


def test_settle_zero_is_the_old_rule():
    pools = [pool("us-east-1a"), pool("us-east-1b")]
    nodes = [ready_for("1", pools[0], 99999), ready_for("2", pools[1], 600), node("od", None)]
    old = replace(SETTLE, on_demand_settle_s=0.0)
    assert drained(plan(snap(pools, nodes, k=2), old)) == ["od"]
