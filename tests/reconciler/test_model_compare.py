"""The promotion rule: a candidate decides only when it beats the live model and the baseline."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from reconciler.core.signals import FleetSignals
from reconciler.decide.model import ModelSettings
from reconciler.decide.model_compare import (
    Replayed,
    ReplayedFigures,
    Scores,
    compare,
    evaluate_on_signals,
    score,
    with_replay,
)
from reconciler.decide.signal_model import PriorAndOwn, train_own
from reconciler.replay.promotion_replay import replay_window
from tests.reconciler.helpers import fleet_signals

BASE = Scores(auc=0.50, brier=0.030, rows=1000, losses=30)


def test_a_candidate_that_beats_both_is_promoted() -> None:
    ok, why = compare(Scores(0.70, 0.025, 1000, 30), BASE, Scores(0.60, 0.027, 1000, 30))
    assert ok and why.startswith("promoted") and "live model" in why


def test_better_ranking_with_worse_calibration_is_not_enough() -> None:
    ok, why = compare(Scores(0.70, 0.031, 1000, 30), BASE, None)
    assert not ok and "does not beat the baseline" in why


def test_beating_the_baseline_but_not_the_live_model_keeps_the_live_model() -> None:
    ok, why = compare(Scores(0.65, 0.026, 1000, 30), BASE, Scores(0.70, 0.025, 1000, 30))
    assert not ok and "does not beat the live model" in why and "baseline" not in why.split("(")[0]


def test_a_window_without_losses_ranks_nothing() -> None:
    s = score(np.zeros(50), np.full(50, 0.1))
    assert math.isnan(s.auc) and s.losses == 0
    ok, why = compare(s, s, None)
    assert not ok and "ranks nothing" in why


def test_a_candidate_ranking_no_better_than_chance_or_on_too_few_losses_is_not_promoted() -> None:
    """The demo's own history: a candidate a hair ahead of the baseline on the judging days,
    both ranking at AUC 0.001, was promoted; beating a baseline that ranks worse than chance
    is no evidence of a model."""
    inverted = Scores(auc=0.0011, brier=0.4547, rows=82, losses=38)
    ok, why = compare(inverted, Scores(auc=0.0010, brier=0.4570, rows=82, losses=38), None)
    assert not ok
    assert "candidate AUC 0.001 on the window's 82 pool-ticks ranks no better than chance" in why
    few_losses = Scores(auc=0.9, brier=0.01, rows=5000, losses=9)
    ok, why = compare(few_losses, Scores(0.5, 0.02, 5000, 9), None)
    assert not ok and "9 losses and 4991 others, too few to judge" in why
    assert compare(Scores(0.9, 0.01, 68, 32), Scores(0.5, 0.2, 68, 32), None)[0]


# The judging window replayed through the decision path (reconciler.replay.promotion_replay).
SERVED = ReplayedFigures(availability=0.98, cost_ratio=0.34)


def _replayed(candidate: ReplayedFigures, live: ReplayedFigures | None = None) -> Replayed:
    return Replayed(candidate=candidate, baseline=SERVED, live=live, node_ticks=2304)


def test_a_candidate_that_ranks_better_but_serves_fewer_ticks_does_not_decide() -> None:
    fewer = _replayed(ReplayedFigures(availability=0.95, cost_ratio=0.30))
    ok, why = compare(Scores(0.70, 0.025, 1000, 30), BASE, None, fewer)
    assert not ok
    assert "its replay of the window serves worse than the baseline" in why
    assert "candidate 0.9500 / 0.3000, baseline 0.9800 / 0.3400" in why


def test_serving_as_well_only_by_spending_more_than_the_slack_does_not_decide() -> None:
    dearer = _replayed(ReplayedFigures(availability=0.98, cost_ratio=0.34 + 0.021))
    assert not compare(Scores(0.70, 0.025, 1000, 30), BASE, None, dearer)[0]
    within = _replayed(ReplayedFigures(availability=0.98, cost_ratio=0.34 + 0.02))
    ok, why = compare(Scores(0.70, 0.025, 1000, 30), BASE, None, within)
    assert ok and "replays the window at least as well" in why


def test_the_replay_is_asked_of_the_live_model_too() -> None:
    live_serves_more = _replayed(SERVED, live=ReplayedFigures(availability=0.99, cost_ratio=0.33))
    ok, why = compare(
        Scores(0.70, 0.025, 1000, 30), BASE, Scores(0.60, 0.027, 1000, 30), live_serves_more
    )
    assert not ok and "serves worse than the live model" in why and "live model 0.9900" in why


def _ranked_history() -> FleetSignals:
    """Three pools, one node held in each for 2000 ten-minute ticks; us-east-1a's score drops
    to 3 four ticks before each of its losses (one every 40 ticks), us-east-1b loses one node
    in 200 with no warning in the scores: an own model ranks these, the baseline does not."""
    pools, n = 3, 2000
    warned = np.zeros((pools, n), np.int32)
    score = np.full((pools, n), 8.0)
    for t in range(30, n, 40):
        score[0, t - 4 : t] = 3.0
        warned[0, t] = 1
    warned[1, 50::200] = 1
    return fleet_signals(held=np.ones((pools, n)), warned=warned, score=score)


def test_on_fleet_signals_a_better_ranking_candidate_is_promoted_only_if_it_serves_as_well() -> (
    None
):
    signals, start = _ranked_history(), 1600
    candidate = PriorAndOwn(None, train_own(signals, end=start), ModelSettings())
    replayed, _ = replay_window(
        signals, start, fleets=[[p.name for p in signals.pools]], candidate=candidate, live=None
    )
    assert replayed is not None
    scored = evaluate_on_signals(signals, start, candidate=candidate, live=None)
    c = with_replay(scored, replayed)
    assert c.candidate.beats(c.baseline) and c.candidate.auc > 0.9
    assert c.replayed == replayed
    # The three nodes it held replayed: nothing lost in the window, only the cold start's tick.
    assert replayed.candidate.availability == pytest.approx(399 / 400)
    assert c.promoted and "replays the window at least as well" in c.reason, c.reason
    # The same scores, but a replay in which the candidate served fewer ticks: kept out.
    worse = dataclasses.replace(
        replayed, candidate=ReplayedFigures(availability=0.97, cost_ratio=0.30)
    )
    c = with_replay(scored, worse)
    assert c.candidate.beats(c.baseline)
    assert not c.promoted and "its replay of the window serves worse" in c.reason
