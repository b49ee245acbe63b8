"""The model is fitted on the past only, scored on a later held-out part, and round-trips."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from reconciler.core.errors import ModelError, NotEnoughHistoryError
from reconciler.decide.features import compute_features
from reconciler.decide.model import ModelSettings, advisor_prior, load_model, train_model
from tests.reconciler.helpers import market

SMALL = ModelSettings(num_trees=15, num_leaves=7, min_leaf_fraction=0.005, horizon_s=1800)


def flappy(n_pools: int = 3, n_ticks: int = 1500, seed: int = 0) -> list[list[int]]:
    """Pools whose up-runs are short after a return and long later: learnable."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n_pools):
        x, up, age = [], 1, 0
        for _ in range(n_ticks):
            hazard = 0.25 if age < 3 else 0.02
            if up and rng.random() < hazard:
                up, age = 0, 0
            elif not up and rng.random() < 0.3:
                up, age = 1, 0
            age += 1
            x.append(up)
        rows.append(x)
    return rows


def test_fit_uses_no_tick_at_or_after_end():
    rows = flappy()
    a = market(rows, gap=600)
    changed = np.array(rows)
    changed[:, 1000:] = 1 - changed[:, 1000:]
    b = market(changed.tolist(), gap=600)
    ma = train_model(a, end=1000, settings=SMALL)
    mb = train_model(b, end=1000, settings=SMALL)
    x = compute_features(a, np.arange(900, 1000))
    np.testing.assert_array_equal(ma.predict_features(x), mb.predict_features(x))
    assert ma.meta["fingerprint"] == mb.meta["fingerprint"]
    assert ma.meta["training_window"]["end_tick"] == 1000
    assert ma.meta["training_window"]["holdout_from_tick"] == 800


def test_held_out_metrics_for_model_and_both_baselines():
    m = train_model(market(flappy(), gap=600), end=1500, settings=SMALL)
    held = m.meta["holdout"]
    assert set(held) == {
        "model",
        "lightgbm_alone",
        "baseline_1_minus_avail_24h",
        "baseline_ewma_transitions",
    }
    for scores in held.values():
        assert 0.0 <= scores["auc"] <= 1.0
        assert 0.0 <= scores["brier"] <= 1.0
    assert held["model"]["auc"] > held["baseline_1_minus_avail_24h"]["auc"]


def test_artifact_round_trips(tmp_path):
    series = market(flappy(), gap=600)
    m = train_model(series, end=1500, settings=SMALL)
    m.save(tmp_path / "model")
    loaded = load_model(tmp_path / "model")
    x = compute_features(series, [1400, 1499])
    np.testing.assert_allclose(loaded.predict_features(x), m.predict_features(x))
    meta = json.loads((tmp_path / "model" / "model.json").read_text())
    assert meta["horizon_s"] == 1800
    assert "fingerprint" in meta


def test_artifact_of_other_features_is_refused(tmp_path):
    m = train_model(market(flappy(), gap=600), end=1500, settings=SMALL)
    m.meta["features"] = ["something_else"]
    m.save(tmp_path / "model")
    with pytest.raises(ModelError, match="retrain"):
        load_model(tmp_path / "model")


def test_too_little_history_is_refused_with_advice():
    with pytest.raises(NotEnoughHistoryError, match="longer history"):
        train_model(market([[1] * 50], gap=600), end=50, settings=SMALL)


def test_advisor_prior_grows_with_band_and_respects_floor():
    low = advisor_prior(0, 1800, floor=0.0)
    high = advisor_prior(4, 1800, floor=0.0)
    assert 0 < low < high < 0.01
    assert advisor_prior(0, 1800, floor=0.1) == 0.1
    assert advisor_prior(float("nan"), 1800, floor=0.0) == high  # unknown: the worst band


def test_a_pool_with_too_little_history_gets_its_advisor_prior_and_says_so():
    from reconciler.decide.pipeline import predict_pools

    m = market(flappy(n_pools=2, n_ticks=400), gap=600)
    model = train_model(m, end=400, settings=SMALL)
    # Pool 1 was first observed 10 ticks (100 min) before the end: under 24 h of history.
    watched = replace(m, advisor_band=np.array([1.0, 3.0]), observed_from=np.array([0, 390]))
    preds = predict_pools(watched, model=model, settings=SMALL)
    assert preds[0].basis == "model"
    assert preds[1].basis == "advisor_prior"
    assert preds[1].probability == advisor_prior(3.0, SMALL.horizon_s, SMALL.prior_floor)
    assert "Spot Advisor band 3" in preds[1].reason
