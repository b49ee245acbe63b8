"""The four reference policies, each on a trace whose answer is worked out by hand."""

from __future__ import annotations

import pytest

from reconciler.replay.engine import replay
from reconciler.replay.reference import EvenSpread, OnDemand, SinglePool, SpreadWithFallback
from tests.reconciler.helpers import market


def test_on_demand_costs_exactly_one_and_misses_only_cold_start():
    m = market([[0, 0, 0, 0, 0, 0]])
    r = replay(OnDemand(), m, k=3, start=1, end=6, cold_start_seconds=150)  # ready after 2 ticks
    assert r.cost_ratio == pytest.approx(1.0)
    assert r.availability == pytest.approx(3 / 5)
    assert r.launches == 3
    assert r.preemptions == 0


def test_single_pool_picks_highest_mean_availability_including_history():
    # Before the window pool b was up more often; a is up now as well but ranks lower.
    m = market([[0, 0, 2, 2], [1, 1, 2, 2]])
    policy = SinglePool()
    r = replay(policy, m, k=2, start=2, end=4, cold_start_seconds=0)
    assert r.launches == 2
    assert r.spot_node_hours == pytest.approx(2 * 2 * 100 / 3600)
    assert r.availability == 1.0


def test_single_pool_ties_go_to_the_first_pool_by_name_and_never_spill():
    # Equal means: pool 0 (first by name) is chosen; its single slot is all it takes.
    m = market([[1, 1], [1, 1]])
    r = replay(SinglePool(), m, k=2, start=0, end=2, cold_start_seconds=0)
    assert r.launches == 1
    assert r.availability == 0.0
    assert r.launch_failures == 0


def test_single_pool_keeps_nodes_elsewhere_when_the_best_pool_changes():
    # Tick 0: pool 0 best (mean 1 vs 0) → launch there. Tick 1: pool 1 has mean 1 vs pool 0's 0.5
    # once pool 0 is down → the node in pool 0 is gone anyway; at tick 2 pool 0 is back and
    # holds a node again only if it is best.
    m = market([[1, 0, 1, 1], [0, 1, 1, 1]])
    r = replay(SinglePool(), m, k=1, start=0, end=4, cold_start_seconds=0)
    # t0: means (1, 0) → pool 0. t1: pool 0 preempted; means (.5, .5) tie → pool 0, no slot → none.
    # t2: means (2/3, 2/3) → pool 0 free → launch. t3: held.
    assert r.preemptions == 1
    assert r.launches == 2
    assert r.availability == pytest.approx(3 / 4)


def test_even_spread_fills_the_pool_holding_fewest_ties_by_name():
    m = market([[2, 2], [1, 1], [2, 2]])
    r = replay(EvenSpread(), m, k=4, start=0, end=1, cold_start_seconds=0)
    # launches: a (0,0,0→a), b (1,0,0 → b), c, then a (fewest among free: a=1,c=1 → a).
    assert r.launches == 4
    assert r.launch_failures == 0
    assert r.availability == 1.0


def test_even_spread_never_on_demand_and_refills_after_loss():
    m = market([[1, 0, 0, 1], [1, 1, 1, 1]])
    r = replay(EvenSpread(), m, k=2, start=0, end=4, cold_start_seconds=100)
    # t0: a, b launched (ready t1). t1: a lost; no free pool. t3: a back → relaunch (ready t4).
    assert r.preemptions == 1
    assert r.launches == 3
    assert r.on_demand_node_hours == 0
    assert r.availability == pytest.approx(0.0)
    assert r.mean_ready_fraction == pytest.approx((0 + 0.5 + 0.5 + 0.5) / 4)


def test_spread_with_fallback_fills_with_on_demand_and_returns_to_spot():
    # One pool, K=1, cold start one tick. t0: spot launched (ready t1). t1: lost → on-demand.
    # t2: spot back → relaunch, keep on-demand (spot not ready). t3: spot ready → drop on-demand.
    m = market([[1, 0, 1, 1, 1]])
    r = replay(SpreadWithFallback(), m, k=1, start=0, end=5, cold_start_seconds=100)
    assert r.launches == 3
    assert r.on_demand_node_hours == pytest.approx(2 * 100 / 3600)  # held t1, t2
    assert r.spot_node_hours == pytest.approx((1 + 3) * 100 / 3600)
    # served: t0 no, t1 no (spot gone, od cold), t2 od ready, t3 spot ready, t4 spot.
    assert r.availability == pytest.approx(3 / 5)


def test_spread_with_fallback_counts_launching_spot_before_on_demand():
    # Two free pools, K=2: spot launches cover K, so no on-demand at all.
    m = market([[1, 1], [1, 1]])
    r = replay(SpreadWithFallback(), m, k=2, start=0, end=2, cold_start_seconds=100)
    assert r.on_demand_node_hours == 0
    assert r.launches == 2
