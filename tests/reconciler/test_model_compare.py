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
