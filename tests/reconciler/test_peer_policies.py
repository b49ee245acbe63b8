"""The peer policies of REPLAY.md, each rule on a trace small enough to follow by hand."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import pytest

from reconciler.core.market import MarketSeries
from reconciler.replay.engine import replay
from reconciler.replay.peers import (
    PEER_NAMES,
    AsgCapacityOptimized,
    Karpenter,
    SpotHedge,
    peer_policy,
)
from reconciler.replay.types import Decision, Observation, Policy, ReplaySetup
from tests.reconciler.helpers import market


class Recorder:
    """Passes everything to ``inner`` and keeps each tick's decision (and SpotHedge's states)."""

    def __init__(self, inner: Policy) -> None:
        self.inner = inner
        self.name = inner.name
        self.decisions: dict[int, Decision] = {}
        self.active: dict[int, tuple[bool, ...]] = {}

    def reset(self, setup: ReplaySetup) -> None:
        self.inner.reset(setup)

    def decide(self, obs: Observation) -> Decision:
        decision = self.inner.decide(obs)
        self.decisions[obs.tick] = decision
        if isinstance(self.inner, SpotHedge):
            self.active[obs.tick] = self.inner.active
        return decision


def priced(m: MarketSeries, prices: Sequence[float]) -> MarketSeries:
    spot = np.array(prices, dtype=np.float64)[:, None] * np.ones(m.capacity.shape)
    return dataclasses.replace(m, spot_price=spot)


def run(policy: Policy, m: MarketSeries, *, k: int, cold: float = 0.0) -> Recorder:
    recorder = Recorder(policy)
    replay(recorder, m, k=k, start=0, end=m.n_ticks, cold_start_seconds=cold)
    return recorder


def spot_launches(r: Recorder, tick: int) -> tuple[int | None, ...]:
    """The spot pools launched into at ``tick`` (on-demand left out)."""
    return tuple(p for p in r.decisions[tick].launches if p is not None)


def test_every_peer_is_named_exactly_as_replay_md_says():
    assert [peer_policy(name).name for name in PEER_NAMES] == [
        "spothedge+0",
        "spothedge+1",
        "spothedge+2",
        "karpenter",
        "asg_capacity_optimized",
    ]


# SpotHedge


def test_spothedge_spreads_into_empty_pools_cheapest_first_then_overprovisions():
    # Prices a 0.9, b 0.5, c 0.7, two slots each: K + N = 4 spot nodes. The empty ACTIVE
    # pools first, cheapest first (b, c, a); then the ACTIVE pools: b again (cheapest).
    m = priced(market([[2], [2], [2]]), [0.9, 0.5, 0.7])
    r = run(SpotHedge(2), m, k=2)
    assert spot_launches(r, 0) == (1, 2, 0, 1)


def test_spothedge_cheapest_ties_go_to_fewest_held_then_name():
    m = market([[3], [3]])  # one price: a, b, then a again (both hold one: by name)
    r = run(SpotHedge(1), m, k=2)
    assert spot_launches(r, 0) == (0, 1, 0)


def test_spothedge_avoids_a_preempted_pool_and_resets_below_two_active():
    # Pools a b c d, one slot each, K=1, N=1.
    m = market(
        [
            [1, 0, 1, 1],  # a: lost at t1 -> PREEMPTED; back (and free) at t2
            [1, 1, 0, 1],  # b: lost at t2 -> PREEMPTED
            [1, 1, 1, 0],  # c: lost at t3 -> only d ACTIVE -> every pool ACTIVE again
            [1, 1, 1, 1],
        ]
    )
    r = run(SpotHedge(1), m, k=1)
    assert spot_launches(r, 0) == (0, 1)  # a, b
    assert r.active[1] == (False, True, True, True)
    assert spot_launches(r, 1) == (2,)  # c: an empty ACTIVE pool
    assert r.active[2] == (False, False, True, True)
    assert spot_launches(r, 2) == (3,)  # d, not a: a has a free slot but is PREEMPTED
    assert r.active[3] == (True, True, True, True)  # c lost: one ACTIVE left -> all ACTIVE
    assert spot_launches(r, 3) == (0,)  # a: first by name among the empty ACTIVE pools


def test_spothedge_falls_back_to_any_pool_when_no_active_pool_has_a_slot():
    # a (two slots) loses its node at t1 and turns PREEMPTED; b and c stay ACTIVE but full.
    # At t2 a has slots again: the only pool with one, so the spare goes there.
    m = market([[2, 0, 2], [1, 1, 1], [1, 1, 1]])
    r = run(SpotHedge(1), m, k=2)
    assert spot_launches(r, 0) == (0, 1, 2)
    assert r.active[1] == (False, True, True)
    assert spot_launches(r, 1) == ()  # no pool has a free slot
    assert spot_launches(r, 2) == (0,)


def test_spothedge_holds_on_demand_for_exactly_what_ready_spot_lacks():
    # One pool, K=2, N=0, ready one tick after launch.
    m = market([[1, 1, 0, 0]])
    r = run(SpotHedge(0), m, k=2, cold=100)
    # t0: spot (id 0) and two on-demand (ids 1, 2): no spot ready.
    assert r.decisions[0].launches == (0, None, None)
    # t1: the spot node is ready: one on-demand too many, the newest (id 2) goes.
    assert r.decisions[1].terminate == (2,)
    assert r.decisions[1].launches == ()
    # t2: the spot node is lost: on-demand back to two.
    assert r.decisions[2].launches == (None,)
    assert r.decisions[2].terminate == ()
    assert 3 not in r.decisions or r.decisions[3] == Decision()


# Karpenter


@pytest.mark.parametrize(("gap", "unavailable"), [(195, 1), (100, 2), (60, 3)])
def test_karpenter_an_interrupted_pool_is_unavailable_for_ceil_180_over_gap_ticks(
    gap: int, unavailable: int
):
    # a is cheaper than b. a is lost at t1 (unavailable from t1 for `unavailable` ticks,
    # counting t1), b at t2; a has capacity again from t2 on.
    m = priced(market([[1, 0, 1, 1, 1, 1, 1], [1, 1, 0, 0, 0, 0, 0]], gap=gap), [0.5, 0.9])
    r = run(Karpenter(), m, k=1)
    assert r.decisions[0].launches == (0,)
    assert r.decisions[1].launches == (1,)  # a unavailable: b
    back = 1 + unavailable  # the first tick a is available again
    relaunch = max(2, back)
    for t in range(2, relaunch):
        assert r.decisions[t].launches in ((None,), ()), t  # no spot available: on-demand
    assert r.decisions[relaunch].launches == (0,)
    if relaunch > 2:
        assert r.decisions[2].launches == (None,)


def test_karpenter_falls_back_to_on_demand_and_consolidates_once_spot_is_ready():
    # One pool, K=1, ready two ticks after launch. t0: no capacity -> on-demand (id 0).
    # t1: capacity -> spot (id 1, ready t3) while on-demand is held. t3: terminate it.
    m = market([[0, 1, 1, 1, 1]])
    r = run(Karpenter(), m, k=1, cold=200)
    assert r.decisions[0].launches == (None,)
    assert r.decisions[1].launches == (0,)
    assert r.decisions[2] == Decision()
    assert r.decisions[3].terminate == (0,)
    result = replay(Karpenter(), m, k=1, start=0, end=5, cold_start_seconds=200)
    assert result.on_demand_node_hours == pytest.approx(3 * 100 / 3600)


def test_karpenter_brings_spot_back_to_k_while_holding_on_demand():
    # K=2, two pools of one slot. t0: only a -> a and one on-demand. t1: b too -> spot
    # to K (b) while on-demand is held; nothing is missing from K, so no more on-demand.
    m = market([[1, 1, 1], [0, 1, 1]])
    r = run(Karpenter(), m, k=2, cold=100)
    assert r.decisions[0].launches == (0, None)
    assert r.decisions[1].launches == (1,)
    assert r.decisions[1].terminate == ()  # spot not ready yet (a ready, b not)
    assert r.decisions[2].terminate == (1,)  # a and b ready: the on-demand node (id 1) goes


# asg_capacity_optimized


def test_asg_capacity_optimized_fills_the_pool_with_most_free_slots():
    # Free slots a 1, b 3, c 3: b (tie with c: fewest held, then name), c (3 > 2), then b
    # (b and c both 2 free and 1 held: by name).
    m = market([[1], [3], [3]])
    r = run(AsgCapacityOptimized(), m, k=3)
    assert r.decisions[0].launches == (1, 2, 1)


def test_asg_capacity_optimized_never_launches_on_demand():
    m = market([[0, 1, 1]])
    result = replay(AsgCapacityOptimized(), m, k=1, start=0, end=3, cold_start_seconds=0)
    assert result.on_demand_node_hours == 0
    assert result.availability == pytest.approx(2 / 3)
