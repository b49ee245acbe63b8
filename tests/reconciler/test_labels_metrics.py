"""Labels look only inside the training window; AUC, Brier and calibration by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from reconciler.decide.labels import loss_labels
from reconciler.decide.scores import auc, brier, calibration, expected_calibration_error


def test_label_is_a_drop_within_the_horizon():
    cap = np.array([[1, 1, 1, 0, 1, 1]], dtype=np.int32)
    y = loss_labels(cap, np.arange(6), horizon_seconds=200, gap_seconds=100)[:, 0]
    # horizon 2 ticks: t0 sees t1,t2 (up) → 0; t1 sees t2,t3 → 1; t2 → 1; t3 down → none;
    # t4 sees t5 and beyond the end → none; t5 → none.
    assert y[:3].tolist() == [0, 1, 1]
    assert all(math.isnan(v) for v in y[3:])


def test_a_warning_within_the_horizon_is_a_loss_where_capacity_never_drops():
    # AWS's capacity is a guess from offered prices (constant); its warnings are the losses.
    cap = np.full((2, 8), 4, dtype=np.int32)
    warned = np.zeros((2, 8), dtype=np.int32)
    warned[0, 4] = 1
    y = loss_labels(cap, np.arange(8), horizon_seconds=200, gap_seconds=100, warnings=warned)
    # horizon 2 ticks: t2 sees t3,t4 and t3 sees t4,t5 → 1; t4 sees t5,t6 → 0 (after it).
    assert y[:6, 0].tolist() == [0, 0, 1, 1, 0, 0]
    assert y[:6, 1].tolist() == [0] * 6  # the other pool was never warned
    unwarned = loss_labels(cap, np.arange(8), horizon_seconds=200, gap_seconds=100)
    assert np.nansum(unwarned) == 0


def test_labels_stop_before_known_until():
    cap = np.ones((1, 10), dtype=np.int32)
    cap[0, 8] = 0
    y = loss_labels(cap, np.arange(10), horizon_seconds=100, gap_seconds=100, known_until=6)[:, 0]
    assert not np.isnan(y[:5]).any()
    assert np.isnan(y[5:]).all()  # t=5 would need tick 6


def test_auc_by_hand_with_ties():
    assert auc(np.array([0, 0, 1, 1.0]), np.array([0.1, 0.4, 0.35, 0.8])) == pytest.approx(0.75)
    assert auc(np.array([0, 1.0]), np.array([0.5, 0.5])) == pytest.approx(0.5)
    assert math.isnan(auc(np.array([1, 1.0]), np.array([0.2, 0.3])))


def test_brier_and_calibration():
    y = np.array([0, 0, 1, 1.0])
    p = np.array([0.1, 0.1, 0.9, 0.7])
    assert brier(y, p) == pytest.approx((0.01 + 0.01 + 0.01 + 0.09) / 4)
    bins = calibration(y, p, bins=2)
    assert [(b.count, b.observed) for b in bins] == [(2, 0.0), (2, 1.0)]
    assert expected_calibration_error(bins) == pytest.approx((2 * 0.1 + 2 * 0.2) / 4)
