"""The judging window replayed through the daemon's decision path, per decider: the market the
fleet saw rebuilt from its signals, its K, and the fleets' figures pooled."""

from __future__ import annotations

import numpy as np
import pytest

from reconciler.core.signals import FleetSignals
from reconciler.decide.model import ModelSettings
from reconciler.decide.signal_model import PriorAndOwn, train_own
from reconciler.replay.engine import replay
from reconciler.replay.planner_policy import PlannerPolicy
from reconciler.replay.promotion_replay import (
    fleet_k,
    replay_fleet,
    replay_window,
    replayed_market,
)
from tests.reconciler.helpers import fleet_signals, losing_every_30_ticks

N, START = 60, 40  # 5-minute ticks: a 20-tick judging window


def _signals(zones: str, held: np.ndarray, warned: np.ndarray, score: np.ndarray) -> FleetSignals:
    return fleet_signals(
        held=held, warned=warned, score=score, zones=zones, gap=300, spot=0.4, score_target=2
    )


def _losing_pool() -> FleetSignals:
    """The fleet held 2 nodes in us-east-1a, always scored 10 (room for 2 more), until AWS took
    one back at tick 50 (scored 1 then: no room)."""
    held = np.full((1, N), 2)
    held[0, 50:] = 1
    warned = np.zeros((1, N))
    warned[0, 50] = 1
    score = np.full((1, N), 10.0)
    score[0, 50] = 1.0
    return _signals("a", held, warned, score)


def _steady_pool() -> FleetSignals:
    """One node in us-east-1b all along, room for 2 more, nothing lost."""
    return _signals("b", np.ones((1, N)), np.zeros((1, N)), np.full((1, N), 10.0))


def _both() -> FleetSignals:
    a, b = _losing_pool(), _steady_pool()
    z = np.zeros((2, N), np.int32)
    return FleetSignals(
        pools=a.pools + b.pools,
        gap_seconds=300,
        t0=0.0,
        spot_price=np.vstack([a.spot_price, b.spot_price]),
        on_demand_price=np.ones(2),
        advisor_band=np.full(2, np.nan),
        placement_score=np.vstack([a.placement_score, b.placement_score]),
        score_target=2,
        held=np.vstack([a.held, b.held]),
        warned=np.vstack([a.warned, b.warned]),
        interrupted=np.vstack([a.interrupted, b.interrupted]),
        launches_tried=z,
        launches_refused=z,
    )


@pytest.fixture(scope="module")
def model() -> PriorAndOwn:
    """A real own model, fitted on a fleet that lost a node every 30 ticks in three pools."""
    fleet = losing_every_30_ticks()
    return PriorAndOwn(prior=None, own=train_own(fleet), settings=ModelSettings())


def test_the_market_replayed_is_the_believed_capacity_dropping_where_the_fleet_lost_a_node() -> (
    None
):
    signals = _losing_pool()
    market = replayed_market(signals, START)
    # held 2 + the room a 10 stands for at target 2 (2): 4; at the loss, only the 1 still held;
    # after it, 1 held + 2 of room.
    assert market.capacity[0, 49] == 4 and market.capacity[0, 50] == 1
    assert market.capacity[0, 51] == 3
    assert market.warnings is not None and market.warnings[0, 50] == 1
    assert float(market.spot_price[0, 0]) == pytest.approx(0.4)  # the window's mean price
    assert fleet_k(signals, START) == 2  # it held 2 for 10 ticks and 1 for 10: mean 1.5


def test_a_replayed_loss_costs_the_tick_it_happens_for_every_decider(model: PriorAndOwn) -> None:
    """By hand: the replayed fleet starts the window empty, so its first tick (40) is a cold
    start; at tick 50 the pool holds only 1 of its K = 2, the replacement is ready at 51. 18 of
    20 ticks served. Cost: 39 spot node-ticks at 0.4 and 2 on-demand at 1.0, over 2 on-demand
    nodes for 20 ticks: 17.6 / 40 = 0.44."""
    got = replay_fleet(_losing_pool(), START, candidate=model, live=model, path=None)
    assert got.k == 2
    for result in (got.candidate, got.baseline, got.live):
        assert result is not None
        assert result.ticks == 20 and result.preemptions == 1
        assert result.availability == pytest.approx(18 / 20)
        assert result.cost_ratio == pytest.approx(17.6 / 40)
    assert got.baseline.policy == "planner_no_model"


def test_the_fleets_figures_are_pooled_weighted_by_ticks_times_k(model: PriorAndOwn) -> None:
    """Fleet "gen" on us-east-1a (K 2, 18 of 20 ticks), fleet "batch" on us-east-1b (K 1: only
    the cold start is lost, 19 of 20): (0.9 x 40 + 0.95 x 20) / 60."""
    fleets = [("us-east-1/us-east-1a/g5.xlarge",), ("us-east-1/us-east-1b/g5.xlarge",)]
    replayed, per_fleet = replay_window(_both(), START, fleets=fleets, candidate=model, live=None)
    assert [f.k for f in per_fleet] == [2, 1]
    assert per_fleet[1].candidate.availability == pytest.approx(19 / 20)
    assert replayed is not None and replayed.live is None
    assert replayed.node_ticks == 20 * 2 + 20 * 1
    assert replayed.candidate.availability == pytest.approx((0.9 * 40 + 0.95 * 20) / 60)
    assert replayed.baseline.availability == pytest.approx((0.9 * 40 + 0.95 * 20) / 60)
    none, _ = replay_window(
        _both(), START, fleets=[("us-west-2/us-west-2a/g5.xlarge",)], candidate=model, live=None
    )
    assert none is None  # no fleet has a pool in the signals: nothing to replay


def test_a_planner_handed_a_blend_decides_with_it_and_fits_nothing(model: PriorAndOwn) -> None:
    market = replayed_market(_losing_pool(), START)
    policy = PlannerPolicy(name="candidate", blend=model)
    replay(policy, market, k=2, start=START, end=N)
    assert policy.model is None  # no prior was fitted in reset
    assert policy._blend is model
