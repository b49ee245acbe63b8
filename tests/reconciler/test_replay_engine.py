"""The engine against REPLAY.md's rules, on traces small enough to score by hand."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from reconciler.core.errors import PolicyError, WindowError
from reconciler.replay.engine import replay
from reconciler.replay.types import Decision
from tests.reconciler.helpers import Scripted, market

REPLAY_KEYS = [
    "policy",
    "ticks",
    "cost",
    "cost_ratio",
    "availability",
    "mean_ready_fraction",
    "preemptions",
    "launch_failures",
    "launches",
    "on_demand_node_hours",
    "spot_node_hours",
]


def test_json_has_exactly_replays_keys_in_order():
    r = replay(Scripted({}), market([[1, 1]]), k=1, start=0, end=2)
    assert list(r.as_json()) == REPLAY_KEYS


def test_most_recently_launched_node_is_preempted_first():
    # Three launches into one pool at tick 0; capacity falls 3 → 1 at tick 2.
    policy = Scripted({0: Decision(launches=(0, 0, 0))})
    r = replay(policy, market([[3, 3, 1, 1]]), k=1, start=0, end=4, cold_start_seconds=0)
    assert r.preemptions == 2
    survivors = [n.node_id for n in policy.seen[2].nodes]
    assert survivors == [0]  # the first launched of the tick stays


def test_preemption_takes_later_tick_before_earlier_tick():
    policy = Scripted({0: Decision(launches=(0,)), 1: Decision(launches=(0,))})
    replay(policy, market([[2, 2, 1]]), k=1, start=0, end=3, cold_start_seconds=0)
    assert [n.launch_tick for n in policy.seen[2].nodes] == [0]


def test_spot_launch_fails_without_a_free_slot_and_is_counted():
    policy = Scripted({0: Decision(launches=(0, 0, 0, 1))})
    r = replay(policy, market([[2], [0]]), k=1, start=0, end=1)
    assert (r.launches, r.launch_failures) == (2, 2)


def test_terminations_happen_before_launches():
    # Pool holds one slot: terminating the node frees it for a launch in the same tick.
    policy = Scripted({0: Decision(launches=(0,)), 1: Decision(terminate=(0,), launches=(0,))})
    r = replay(policy, market([[1, 1]]), k=1, start=0, end=2)
    assert (r.launches, r.launch_failures) == (2, 0)


def test_cold_start_rounds_up_to_whole_ticks():
    # gap 100 s, cold start 250 s → ready 3 ticks after launch; K=1 over 5 ticks.
    policy = Scripted({0: Decision(launches=(0,))})
    r = replay(policy, market([[1] * 5]), k=1, start=0, end=5, cold_start_seconds=250)
    assert r.availability == pytest.approx(2 / 5)
    assert r.mean_ready_fraction == pytest.approx(2 / 5)


def test_accounting_pays_from_launch_and_stops_at_preemption():
    # gap 100 s: a spot node at 0.9 $/h costs 0.025 per tick, on-demand at 3.6 $/h 0.1.
    policy = Scripted({0: Decision(launches=(0, None))})
    r = replay(policy, market([[1, 1, 0, 0]]), k=2, start=0, end=4, cold_start_seconds=100)
    # spot held ticks 0, 1 (preempted at 2); on-demand held all 4 ticks.
    assert r.cost == pytest.approx(2 * 0.025 + 4 * 0.1)
    assert r.cost_ratio == pytest.approx(r.cost / (2 * 0.1 * 4))
    assert r.spot_node_hours == pytest.approx(2 * 100 / 3600)
    assert r.on_demand_node_hours == pytest.approx(4 * 100 / 3600)
    assert r.preemptions == 1
    # ready from tick 1: both at tick 1; only on-demand after.
    assert r.availability == pytest.approx(1 / 4)
    assert r.mean_ready_fraction == pytest.approx((0 + 1 + 0.5 + 0.5) / 4)


def test_each_tick_values_its_nodes_at_their_own_pools_on_demand_price():
    # What the embedded default's cost ratio divides by (reconciler/embedded/parity.py): a
    # fleet of two types, each node priced at its own type's on-demand price, on-demand nodes
    # at the first pool's (REPLAY.md's on-demand price).
    series = dataclasses.replace(market([[1, 1], [1, 1]]), on_demand_price=np.array([3.6, 7.2]))
    policy = Scripted({0: Decision(launches=(0, 1, None))})
    r = replay(policy, series, k=3, start=0, end=2, cold_start_seconds=100)
    hours = 100 / 3600
    assert [t.on_demand_value for t in r.timeline] == pytest.approx([(3.6 + 7.2 + 3.6) * hours] * 2)
    assert [t.cost for t in r.timeline] == pytest.approx([(0.9 + 0.9 + 3.6) * hours] * 2)


def test_history_before_the_window_is_shown_but_not_scored():
    policy = Scripted(lambda obs: Decision(launches=(0,)) if not obs.nodes else Decision())
    r = replay(policy, market([[0, 1, 1, 1, 1]]), k=1, start=2, end=5, cold_start_seconds=100)
    first = policy.seen[0]
    assert first.tick == 2
    assert first.history.shape == (1, 3)
    assert first.nodes == ()  # the fleet is empty at the first scored tick
    assert r.ticks == 3
    assert r.availability == pytest.approx(2 / 3)
    assert policy.setup is not None
    assert policy.setup.market.capacity.shape == (1, 3)


def test_observation_history_is_read_only():
    def poke(obs):
        with pytest.raises(ValueError, match="read-only"):
            obs.history[0, -1] = 5
        return Decision()

    replay(Scripted(poke), market([[1, 1]]), k=1, start=0, end=2)


def test_terminating_an_unknown_node_is_refused():
    with pytest.raises(PolicyError, match="does not hold"):
        replay(Scripted({0: Decision(terminate=(7,))}), market([[1]]), k=1, start=0, end=1)


def test_empty_window_is_refused():
    with pytest.raises(WindowError):
        replay(Scripted({}), market([[1, 1]]), k=1, start=1, end=1)


def test_planner_policy_sees_its_preemptions_as_recent_losses():
    from reconciler.decide.planner import PlannerSettings
    from reconciler.replay.planner_policy import PlannerPolicy

    # Two pools; the first drops at tick 5. After that the planner holds a spare (alert).
    m = market([[1] * 5 + [0] * 5, [1] * 10, [1] * 10], gap=600)
    settings = PlannerSettings(alert_s=3000.0, spare_risk=100.0, max_loss=1.0, alert_max_share=1.0)
    policy = PlannerPolicy(use_model=False, planner_settings=settings)
    policy.model_settings = policy.model_settings.__class__(min_history_s=0.0)
    r = replay(policy, m, k=1, start=0, end=10, cold_start_seconds=600)
    assert r.preemptions == 1
    assert policy._losses  # the loss was noticed
    assert r.spot_node_hours >= 12 * 600 / 3600  # beyond one node per tick: a spare after the loss
