"""The peers' frontier (upper concave hull) and a policy's margin over it."""

from __future__ import annotations

import pytest

from reconciler.replay.frontier import Point, margins, peer_frontier


def pt(name: str, cost: float, avail: float) -> Point:
    return Point(name, cost, avail)


PEERS = [
    pt("cheap", 0.30, 0.90),
    pt("below", 0.40, 0.91),  # under the segment cheap -> mid: not on the hull
    pt("mid", 0.45, 0.96),
    pt("dear", 0.60, 0.98),
]


def test_the_hull_keeps_only_the_upper_concave_points():
    frontier = peer_frontier(PEERS)
    assert [v.name for v in frontier.vertices] == ["cheap", "mid", "dear"]


def test_between_two_peers_the_frontier_is_the_segment_joining_them():
    frontier = peer_frontier(PEERS)
    assert frontier.at(0.375) == pytest.approx(0.93)  # halfway cheap -> mid
    assert frontier.at(0.45) == pytest.approx(0.96)


def test_below_the_cheapest_it_is_the_cheapest_peers_and_above_the_dearest_the_best_peers():
    peers = [pt("cheap", 0.30, 0.90), pt("best", 0.40, 0.97), pt("dear", 0.50, 0.95)]
    frontier = peer_frontier(peers)
    assert frontier.at(0.10) == pytest.approx(0.90)
    assert frontier.at(0.45) == pytest.approx(0.96)  # the hull falls from best to dear
    assert frontier.at(0.50) == pytest.approx(0.95)
    assert frontier.at(0.80) == pytest.approx(0.97)  # the best peer's


def test_of_peers_at_one_cost_the_better_one_counts():
    frontier = peer_frontier([pt("a", 0.3, 0.90), pt("b", 0.3, 0.95), pt("c", 0.5, 0.99)])
    assert frontier.at(0.2) == pytest.approx(0.95)
    assert frontier.at(0.4) == pytest.approx(0.97)


def test_one_peer_is_a_flat_frontier():
    frontier = peer_frontier([pt("only", 0.4, 0.9)])
    assert frontier.at(0.1) == frontier.at(0.4) == frontier.at(0.9) == pytest.approx(0.9)


def test_margin_is_availability_minus_the_frontier_at_its_cost():
    frontier = peer_frontier(PEERS)
    got = margins(frontier, [pt("planner", 0.375, 0.95), pt("planner_no_model", 0.7, 0.97)])
    assert got == pytest.approx({"planner": 0.02, "planner_no_model": -0.01})


def test_no_peer_is_an_error_that_says_what_to_run():
    with pytest.raises(ValueError, match="at least one peer"):
        peer_frontier([])
