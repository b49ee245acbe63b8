"""The promotion rule: a candidate decides only when it beats the live model and the baseline."""

from __future__ import annotations

import math

import numpy as np

from reconciler.decide.model_compare import Scores, compare, score

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
