"""Walk-forward AUC: the model fitted before a window, scored on that window's ticks."""

from __future__ import annotations

import numpy as np

from reconciler.decide.features import horizon_ticks
from reconciler.decide.labels import loss_labels
from reconciler.decide.model import ModelSettings
from reconciler.decide.signal_model import train_prior
from reconciler.replay.window_scores import pooled_scores, score_left_out, score_window
from tests.reconciler.helpers import market

SMALL = ModelSettings(num_trees=15, num_leaves=3, min_leaf_fraction=0.005, horizon_s=1800)
GAP = 300


def _flapping_and_settled(n: int = 3000):
    flap = [1 if (t // 6) % 3 else 0 for t in range(n)]  # up 12 ticks (1 h), down 6
    return market([flap, [1] * n, [0] * n], gap=GAP)


def test_a_window_is_scored_on_its_own_ticks_with_the_traces_labels():
    m = _flapping_and_settled()
    start, end = 2000, 2600
    model = train_prior(m, end=start, settings=SMALL, score_every_s=GAP, score_target=2)
    scores = score_window(m, start, end, model, score_every_s=GAP, score_target=2)
    expected = loss_labels(
        m.capacity[:, :end],
        np.arange(start, end),
        horizon_seconds=SMALL.horizon_s,
        gap_seconds=GAP,
        known_until=end,
    )
    labelled = expected[~np.isnan(expected)]
    np.testing.assert_array_equal(scores.labels, labelled)
    # The last horizon of the window is unlabelled, as is the pool with no capacity.
    h = horizon_ticks(SMALL.horizon_s, GAP)
    up_ticks = int((m.capacity[:2, start : end - h] > 0).sum())
    assert scores.labels.size == up_ticks
    assert 0 < scores.model_scores.losses < scores.model_scores.rows
    # Drops happen only in the flapping pool: both rank its ticks above the settled pool's.
    assert scores.model_scores.auc > 0.7
    assert scores.baseline_scores.auc > 0.7


def test_pooling_ranks_every_windows_rows_together():
    m = _flapping_and_settled()
    model = train_prior(m, end=2000, settings=SMALL, score_every_s=GAP, score_target=2)
    a = score_window(m, 2000, 2300, model, score_every_s=GAP, score_target=2)
    b = score_window(m, 2300, 2600, model, score_every_s=GAP, score_target=2)
    both = pooled_scores([a, b])
    assert both.labels.size == a.labels.size + b.labels.size
    assert both.model_scores.losses == a.model_scores.losses + b.model_scores.losses


def _fitted_rows(model) -> int:
    return int(model.meta["rows"]["all"])


def test_leave_out_drops_exactly_the_rows_whose_label_reads_the_window():
    m = _flapping_and_settled()
    a, b = 1000, 1600
    h = horizon_ticks(SMALL.horizon_s, GAP)
    ticks = np.arange(m.n_ticks)
    labels = loss_labels(m.capacity, ticks, horizon_seconds=SMALL.horizon_s, gap_seconds=GAP)
    labelled = ~np.isnan(labels)
    outside = (ticks + h < a) | (ticks >= b)
    model = train_prior(m, settings=SMALL, score_every_s=GAP, score_target=2, leave_out=(a, b))
    assert _fitted_rows(model) == int(labelled[outside].sum())
    whole = train_prior(m, settings=SMALL, score_every_s=GAP, score_target=2)
    assert _fitted_rows(whole) == int(labelled.sum())


def test_a_window_left_out_is_scored_on_the_same_rows_as_the_walk_forward():
    m = _flapping_and_settled()
    start, end = 1000, 1600
    before = train_prior(m, end=start, settings=SMALL, score_every_s=GAP, score_target=2)
    forward = score_window(m, start, end, before, score_every_s=GAP, score_target=2)
    left_out = score_left_out(m, start, end, SMALL, score_every_s=GAP, score_target=2)
    np.testing.assert_array_equal(left_out.labels, forward.labels)
    assert not np.array_equal(left_out.model, forward.model)  # another model: the later days too
    assert left_out.model_scores.auc > 0.7
