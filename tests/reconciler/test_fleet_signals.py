"""Fleet signals, the believed capacity, the signal features and the own-node labels, on
hand-made signals (the grid and semantics of reconciler.core.signals)."""

from __future__ import annotations

import numpy as np
import pytest

from reconciler.core.market import PoolInfo
from reconciler.core.placement_score import free_from_score, score_for
from reconciler.core.signals import FleetSignals, signals_from_market
from reconciler.decide.features import FEATURES
from reconciler.decide.model_compare import evaluation_start
from reconciler.decide.signal_features import (
    SIGNAL_FEATURES,
    believed_capacity,
    compute_signal_features,
)
from reconciler.decide.signal_labels import held_loss_labels, launch_failure_labels
from reconciler.decide.signal_model import PriorAndOwn, train_own
from reconciler.embedded import placement_scores as embedded
from tests.reconciler.helpers import losing_every_30_ticks

from .helpers import market

N = 12


def signals(**arrays: list[int] | list[float]) -> FleetSignals:
    def row(name: str, fill: float, dtype: type) -> np.ndarray:
        return np.array([arrays.get(name, [fill] * N)], dtype=dtype)

    return FleetSignals(
        pools=(PoolInfo("us-east-1", "us-east-1a", "g5.xlarge"),),
        gap_seconds=600,
        t0=0.0,
        spot_price=np.full((1, N), 0.3),
        on_demand_price=np.array([1.0]),
        advisor_band=np.array([np.nan]),
        placement_score=row("score", np.nan, float),
        score_target=4,
        held=row("held", 0, np.int32),
        warned=row("warned", 0, np.int32),
        interrupted=row("interrupted", 0, np.int32),
        launches_tried=row("tried", 0, np.int32),
        launches_refused=row("refused", 0, np.int32),
    )


def test_the_embedded_ec2_and_the_backtest_share_one_score_mapping() -> None:
    assert embedded.score_for is score_for
    for target in range(1, 10):
        assert [free_from_score(score_for(f, target), target) for f in range(target + 1)] == list(
            range(target + 1)
        )


def test_the_belief_is_the_last_scores_room_and_only_the_held_after_a_loss_or_refusal() -> None:
    nan = float("nan")
    s = signals(
        score=[score_for(2, 4)] + [nan] * 5 + [score_for(3, 4)] + [nan] * 5,
        held=[0, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1],
        warned=[0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0],
        tried=[1, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0],
        refused=[0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0],
    )
    # room 2 at tick 0; one node lost at tick 4 (the pool at its edge: only what is held, 0);
    # rescored room 3 at 6; a refusal at 8.
    assert believed_capacity(s)[0].tolist() == [2, 2, 2, 2, 0, 0, 3, 3, 3, 1, 1, 1]


def test_a_preemption_says_the_pool_has_no_room_beyond_what_is_held_until_the_next_score() -> None:
    nan = float("nan")
    # Room 3 at tick 0; two nodes launched; one taken back at tick 4. AWS reclaims a spot node
    # only when it needs the capacity, so the score's spare room is gone: 1 (the survivor),
    # not 3 + ... - 1, until the score at tick 8 says how much room there is again.
    s = signals(
        score=[score_for(3, 4)] + [nan] * 7 + [score_for(2, 4)] + [nan] * 3,
        held=[0, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1],
        warned=[0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0],
        tried=[2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    )
    assert believed_capacity(s)[0].tolist() == [3, 3, 3, 3, 1, 1, 1, 1, 3, 3, 3, 3]


def test_signal_features_at_t_never_see_a_later_tick_nor_the_launch_at_t() -> None:
    base = signals(score=[10.0] + [float("nan")] * 11, held=[0] * 6 + [1] * 6)
    later = signals(
        score=[10.0] + [float("nan")] * 11,
        held=[0] * 6 + [1] * 6,
        tried=[0] * 6 + [1] + [0] * 5,
        refused=[0] * 6 + [1] + [0] * 5,
        warned=[0] * 9 + [1, 0, 0],
    )
    a = compute_signal_features(base, [6])
    b = compute_signal_features(later, [6])
    np.testing.assert_array_equal(a, b)
    refusals = SIGNAL_FEATURES.index("refusals_24h")
    assert compute_signal_features(later, [7])[0, 0, refusals] == 1.0


def test_the_baseline_reads_the_believed_24h_availability_where_it_reads_the_capacitys() -> None:
    assert SIGNAL_FEATURES.index("believed_avail_24h") == FEATURES.index("avail_24h")


def test_a_held_node_is_labelled_by_its_own_warning_and_censored_where_it_ran_on() -> None:
    s = signals(
        held=[1, 1, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1],
        warned=[0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0],
    )
    # H = 2 ticks: tick 2 and 3 see the loss at 4; tick 0 is held through 1..2 without one;
    # tick 6 is drained (not warned) at 8: censored; tick 10 reaches past the end: censored.
    got = held_loss_labels(s, range(N), horizon_seconds=1200.0)[:, 0]
    want = [0, 0, 1, 1, None, None, None, None, None, None, None, None]
    assert [None if np.isnan(v) else v for v in got] == want


def test_a_warning_before_the_end_labels_even_when_the_horizon_runs_past_it() -> None:
    s = signals(held=[0] * 10 + [1, 1], warned=[0] * 11 + [1])
    assert held_loss_labels(s, [10], horizon_seconds=1800.0)[0, 0] == 1.0


def test_a_refused_launch_is_a_failure_and_one_that_went_in_is_not() -> None:
    s = signals(tried=[1, 1, 0] + [0] * 9, refused=[0, 1, 0] + [0] * 9)
    got = launch_failure_labels(s, [0, 1, 2])[:, 0]
    assert got[0] == 0.0 and got[1] == 1.0 and np.isnan(got[2])


def test_a_trace_seen_by_an_empty_fleet_is_scored_at_the_collectors_cadence() -> None:
    m = market([[1, 1, 0, 0, 1, 1]], gap=600)
    s = signals_from_market(m, score_every_s=1200.0, score_target=1)
    assert np.isnan(s.placement_score[0, 1])
    assert s.placement_score[0, [0, 2, 4]].tolist() == [10.0, 1.0, 10.0]
    assert int(s.held.sum()) == 0


def test_own_evidence_weighs_more_as_it_accumulates() -> None:
    class Fitted:
        def __init__(self, losses: int) -> None:
            self.meta = {"rows": {"fit": losses * 4, "holdout": 0, "loss_rate": 0.25}}

    prior = Fitted(100)
    weights = [
        PriorAndOwn(prior, Fitted(n), settings=None, own_evidence_k=20).own_weight  # type: ignore[arg-type]
        for n in (0, 20, 180)
    ]
    assert weights == pytest.approx([0.0, 0.5, 0.9])
    assert PriorAndOwn(prior, None, settings=None).own_weight == 0.0  # type: ignore[arg-type]


def test_the_backtests_planner_is_scored_at_the_daemons_cadence() -> None:
    # One setting: the replay may not score more often than the daemon's collector asks AWS.
    from reconciler.core.settings import Cadences
    from reconciler.replay.planner_policy import PlannerPolicy

    assert PlannerPolicy().score_every_s == Cadences().placement_scores_s == 300.0


def test_the_judging_window_is_the_last_third_of_a_short_own_evidence_else_evaluation_s() -> None:
    """The demo's history: days of scores, then a few hours of the fleet's own nodes. Judging
    on the last two days would leave the candidate no own tick to fit on."""
    short = signals(held=[0] * 6 + [1] * 6)  # own nodes from tick 6 of 12 (600 s ticks)
    assert evaluation_start(short, evaluation_s=2 * 86400.0) == 12 - 2
    long = signals(held=[1] * N)
    assert evaluation_start(long, evaluation_s=1200.0) == N - 2  # two ticks: under a third
    assert evaluation_start(signals(), evaluation_s=2 * 86400.0) == 0  # nothing to fit


def test_an_own_model_fits_when_the_fleet_ran_only_the_last_days_of_a_long_history() -> None:
    """Weeks of scores before the fleet's first node (the demo's seed days): the held-out
    split is taken from the ticks that have the fleet's own rows, so the fit side is not empty
    (it was: LightGBM refused an empty dataset)."""
    own_from = 1700
    fleet = losing_every_30_ticks(own_from=own_from)
    model = train_own(fleet)
    assert model.meta["rows"]["fit"] > 0 and model.meta["rows"]["holdout"] > 0
    assert model.meta["training_window"]["holdout_from_tick"] > own_from
