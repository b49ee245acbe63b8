"""The interruption model: LightGBM on pool features, trained on a time split.

Artifact (a folder): ``model.txt`` (the LightGBM booster) and ``model.json`` (features,
horizon, training window, data fingerprint, held-out metrics of the model and of both
baselines, and a calibration table).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import numpy.typing as npt

from reconciler.core.advisor import BAND_PRIOR
from reconciler.core.errors import ModelError, NotEnoughHistoryError
from reconciler.core.market import MarketSeries
from reconciler.decide.baselines import availability_baseline, ewma_transitions
from reconciler.decide.features import FEATURES, compute_features, horizon_ticks
from reconciler.decide.labels import loss_labels
from reconciler.decide.scores import auc, brier, calibration, expected_calibration_error
from reconciler.decide.signal_features import SIGNAL_FEATURES

__all__ = [
    "LabelledRows",
    "ModelSettings",
    "PoolPrediction",
    "TrainedModel",
    "advisor_prior",
    "fingerprint",
    "fit_rows",
    "load_model",
    "train_model",
]

MONTH_S = 30 * 86400.0


@dataclass(frozen=True, slots=True)
class ModelSettings:
    horizon_s: float = 7200.0
    num_trees: int = 100
    learning_rate: float = 0.05
    # Shallow trees: neighbouring ticks share their horizon, so even a month of traces holds
    # few independent examples. Walk-forward (each window scored by the fit before it), 3
    # leaves ranked better than 7 on 5 of the 7 public collection/accelerator pairs and the
    # planner's margin over the peers rose on all three judged windows (docs/deciding.md).
    num_leaves: int = 3
    # Labels of neighbouring ticks overlap (one horizon each), so the data holds far fewer
    # independent examples than rows: leaves must cover a share of the rows, not a count.
    min_leaf_fraction: float = 0.01
    # The probability the planner uses is (1 - w) x LightGBM + w x (1 - 24 h availability).
    # LightGBM ranks the next hours sharply; the long-run baseline says how settled a pool
    # is, which is what a placement held for hours also needs. Backtests on every public
    # collection placed better with the blend than with either alone.
    baseline_blend: float = 0.5
    holdout_fraction: float = 0.2  # the last part of the training ticks, scored, never fitted
    min_history_s: float = 86400.0  # below this, a pool's prediction is its advisor prior
    prior_floor: float = 0.10  # the least a pool we know nothing about is trusted to lose
    tick_stride: int = 1  # fit on every n-th tick (training speed on long histories)
    seed: int = 0
    threads: int = 1


@dataclass(frozen=True, slots=True)
class PoolPrediction:
    pool: str
    probability: float
    basis: str  # 'model', 'baseline', or 'advisor_prior' (too little history)
    reason: str


def advisor_prior(band: float, horizon_s: float, floor: float) -> float:
    """A horizon probability from an advisor band's monthly interruption frequency.

    The band spreads its monthly frequency evenly over the month; a pool we have not
    watched is not trusted below ``floor`` either way.
    """
    monthly = BAND_PRIOR[int(band)] if not math.isnan(band) else BAND_PRIOR[-1]
    per_horizon = 1.0 - (1.0 - monthly) ** (horizon_s / MONTH_S)
    return float(max(per_horizon, floor))


def fingerprint(series: MarketSeries, end: int) -> str:
    """A hash of what the model was fitted from: pool names, tick length, capacities and
    warnings."""
    h = hashlib.sha256()
    h.update("|".join(p.name for p in series.pools).encode())
    h.update(str(series.gap_seconds).encode())
    h.update(np.ascontiguousarray(series.capacity[:, :end], dtype=np.int32).tobytes())
    if series.warnings is not None:
        h.update(np.ascontiguousarray(series.warnings[:, :end], dtype=np.int32).tobytes())
    return h.hexdigest()[:16]


def _rows(
    series: MarketSeries, ticks: npt.NDArray[np.int64], known_until: int, horizon_s: float
) -> tuple[
    npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.int64], npt.NDArray[np.int64]
]:
    feats = compute_features(series, ticks)  # (n, P, F)
    labels = loss_labels(
        series.capacity,
        ticks,
        horizon_seconds=horizon_s,
        gap_seconds=series.gap_seconds,
        known_until=known_until,
        warnings=series.warnings,
    )
    mask = ~np.isnan(labels)
    tick_of = np.broadcast_to(ticks[:, None], labels.shape)[mask]
    pool_of = np.broadcast_to(np.arange(labels.shape[1])[None, :], labels.shape)[mask]
    return feats[mask], labels[mask], tick_of, pool_of


def _held_out_scores(y: npt.NDArray[np.float64], p: npt.NDArray[np.float64]) -> dict[str, Any]:
    bins = calibration(y, p)
    return {
        "auc": auc(y, p),
        "brier": brier(y, p),
        "ece": expected_calibration_error(bins),
        "calibration": [asdict(b) for b in bins],
    }


@dataclass
class TrainedModel:
    booster: lgb.Booster
    settings: ModelSettings
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def horizon_s(self) -> float:
        return float(self.meta.get("horizon_s", self.settings.horizon_s))

    def predict_features(self, features: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Probabilities for a feature array (..., F), blended as ``baseline_blend`` says."""
        return _blend(self._boosted(features), features, self.settings.baseline_blend)

    def _boosted(self, features: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        flat = features.reshape(-1, features.shape[-1])
        out = np.asarray(self.booster.predict(flat, num_threads=1), dtype=np.float64)
        return out.reshape(features.shape[:-1])

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.booster.save_model(str(folder / "model.txt"))
        (folder / "model.json").write_text(json.dumps(self.meta, indent=2, default=str) + "\n")


def load_model(folder: Path) -> TrainedModel:
    """Read a model artifact written by ``TrainedModel.save``."""
    try:
        meta: dict[str, Any] = json.loads((folder / "model.json").read_text())
        booster = lgb.Booster(model_file=str(folder / "model.txt"))
    except (OSError, ValueError, lgb.basic.LightGBMError) as exc:
        raise ModelError(
            f"{folder}: no readable model artifact ({exc}); "
            f"run `python -m reconciler train --out {folder}`"
        ) from exc
    if tuple(meta.get("features", ())) not in (FEATURES, SIGNAL_FEATURES):
        raise ModelError(
            f"{folder}: the model was trained on features {meta.get('features')} but this "
            f"spotfleet computes {list(FEATURES)} (or, from fleet signals, "
            f"{list(SIGNAL_FEATURES)}); retrain it with `python -m reconciler train`"
        )
    settings = ModelSettings(**meta.get("settings", {}))
    return TrainedModel(booster=booster, settings=settings, meta=meta)


def _blend(
    boosted: npt.NDArray[np.float64], features: npt.NDArray[np.float64], weight: float
) -> npt.NDArray[np.float64]:
    baseline = availability_baseline(features)
    out: npt.NDArray[np.float64] = (1.0 - weight) * boosted + weight * baseline
    return out


def _params(s: ModelSettings, rows: int) -> dict[str, Any]:
    return {
        "objective": "binary",
        "learning_rate": s.learning_rate,
        "num_leaves": s.num_leaves,
        "min_data_in_leaf": max(20, int(s.min_leaf_fraction * rows)),
        "feature_fraction": 0.9,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        "lambda_l2": 1.0,
        "seed": s.seed,
        "deterministic": True,
        "num_threads": s.threads,
        "verbosity": -1,
    }


def train_model(
    series: MarketSeries,
    *,
    end: int | None = None,
    settings: ModelSettings = ModelSettings(),
    on_iteration: Callable[[int, int], None] | None = None,
) -> TrainedModel:
    """Fit on ticks before ``end`` only (labels included); score on the last part of them.

    The held-out part follows the fitted part in time, with one horizon between them so
    no fitted label sees a held-out tick; the returned model is then refitted on all of it.
    """
    end = series.n_ticks if end is None else min(end, series.n_ticks)
    ticks = np.arange(0, end, max(1, settings.tick_stride), dtype=np.int64)
    x, y, tick_of, pool_of = _rows(series, ticks, end, settings.horizon_s)
    return fit_rows(
        LabelledRows(x, y, tick_of, pool_of, FEATURES),
        series=series,
        end=end,
        settings=settings,
        data_fingerprint=fingerprint(series, end),
        on_iteration=on_iteration,
    )


@dataclass(frozen=True)
class LabelledRows:
    """Feature rows with their labels, and the tick and pool each row is of."""

    x: npt.NDArray[np.float64]
    y: npt.NDArray[np.float64]
    tick_of: npt.NDArray[np.int64]
    pool_of: npt.NDArray[np.int64]
    features: tuple[str, ...]
    weight: npt.NDArray[np.float64] | None = None


def fit_rows(
    rows: LabelledRows,
    *,
    series: MarketSeries,
    end: int,
    settings: ModelSettings,
    data_fingerprint: str,
    on_iteration: Callable[[int, int], None] | None = None,
    extra_meta: dict[str, Any] | None = None,
) -> TrainedModel:
    """Fit LightGBM on rows of ticks before ``end``: a held-out time split, then all of them.

    ``series`` names the pools and the grid, and its capacity feeds the EWMA baseline.
    """
    x, y, tick_of, pool_of = rows.x, rows.y, rows.tick_of, rows.pool_of
    gap = series.gap_seconds
    h = horizon_ticks(settings.horizon_s, gap)
    if y.size < 200 or y.sum() < 10 or (1 - y).sum() < 10:
        raise NotEnoughHistoryError(
            f"only {y.size} labelled pool-ticks ({int(y.sum())} losses) before tick {end}; "
            "fit on a longer history (traces: a later --start-day or more days; a daemon's "
            "history: let it collect longer)"
        )
    # The held-out part is the last share of the ticks that have rows: a fleet's own rows
    # start when its first node does, not at the history's first tick.
    first = int(tick_of.min())
    split = first + int((end - first) * (1.0 - settings.holdout_fraction))
    fit = tick_of < split - h
    held = tick_of >= split
    total = 2 * settings.num_trees
    w = rows.weight

    def progress(offset: int) -> Callable[[lgb.callback.CallbackEnv], None]:
        def cb(env: lgb.callback.CallbackEnv) -> None:
            if on_iteration is not None:
                on_iteration(offset + env.iteration + 1, total)

        return cb

    try:
        probe = lgb.train(
            _params(settings, int(fit.sum())),
            lgb.Dataset(x[fit], y[fit], weight=None if w is None else w[fit]),
            settings.num_trees,
            callbacks=[progress(0)],
        )
        p_boosted = np.asarray(probe.predict(x[held]), dtype=np.float64)
        p_model = _blend(p_boosted, x[held], settings.baseline_blend)
        final = lgb.train(
            _params(settings, y.size),
            lgb.Dataset(x, y, weight=w),
            settings.num_trees,
            callbacks=[progress(settings.num_trees)],
        )
    except lgb.basic.LightGBMError as exc:
        raise ModelError(f"LightGBM could not fit the model: {exc}") from exc

    y_held = y[held]
    p_avail = availability_baseline(x[held])
    ewma_all = ewma_transitions(
        series.capacity[:, :end],
        np.arange(end),
        gap_seconds=gap,
        horizon_seconds=settings.horizon_s,
    )
    p_ewma = ewma_all[tick_of[held], pool_of[held]]
    start_dt = datetime.fromtimestamp(series.t0, tz=UTC)
    meta: dict[str, Any] = {
        "features": list(rows.features),
        "horizon_s": settings.horizon_s,
        "horizon_ticks": h,
        "gap_seconds": gap,
        "pools": [p.name for p in series.pools],
        "training_window": {
            "first_tick": 0,
            "end_tick": end,
            "from": start_dt.isoformat(),
            "until": datetime.fromtimestamp(series.t0 + end * gap, tz=UTC).isoformat(),
            "holdout_from_tick": split,
        },
        "fingerprint": data_fingerprint,
        # "all": what the final model was fitted on (the probe: "fit", a gap, then "holdout").
        "rows": {
            "fit": int(fit.sum()),
            "holdout": int(held.sum()),
            "all": int(y.size),
            "loss_rate": float(y.mean()),
        },
        "holdout": {
            "model": _held_out_scores(y_held, p_model),
            "lightgbm_alone": _held_out_scores(y_held, p_boosted),
            "baseline_1_minus_avail_24h": _held_out_scores(y_held, p_avail),
            "baseline_ewma_transitions": _held_out_scores(y_held, p_ewma),
        },
        "settings": asdict(settings),
        **(extra_meta or {}),
    }
    return TrainedModel(booster=final, settings=settings, meta=meta)
