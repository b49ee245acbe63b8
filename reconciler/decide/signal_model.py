"""The interruption model on fleet signals: a prior from public traces, the fleet's own evidence.

Two LightGBM models, kept apart, both on ``SIGNAL_FEATURES``:

- the **prior** (``train_prior``): public capacity traces seen as a fleet holding nothing would
  see them (``signals_from_market``: scores from the free capacity at the collector's cadence,
  prices), labelled by the traces' capacity drops within H;
- the fleet's **own** model (``train_own``): its history's signals, labelled by its own nodes
  (``fleet_loss_labels``: warned or interrupted within H, a launch refused), every fleet pooled.

``PriorAndOwn`` blends them: ``(1 - w) x prior + w x own`` with ``w = n / (n + k)``, ``n`` the
losses the own model was fitted on and ``k`` (``own_evidence_k``, 20) the losses at which the
fleet's own evidence counts as much as the prior. Losses, not rows, measure the evidence:
neighbouring rows share their horizon, and a pool that never loses a node teaches only "no".
A fleet with no loss yet decides on the prior alone; one with hundreds, almost on its own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from reconciler.core.market import MarketSeries
from reconciler.core.signals import FleetSignals, signals_from_market
from reconciler.decide.features import horizon_ticks
from reconciler.decide.labels import loss_labels
from reconciler.decide.model import LabelledRows, ModelSettings, TrainedModel, fit_rows
from reconciler.decide.signal_features import (
    SIGNAL_FEATURES,
    belief_series,
    compute_signal_features,
)
from reconciler.decide.signal_labels import fleet_loss_labels

__all__ = ["OWN_EVIDENCE_K", "PriorAndOwn", "signals_fingerprint", "train_own", "train_prior"]

OWN_EVIDENCE_K = 20.0
_DEFAULT_SETTINGS = ModelSettings()


def signals_fingerprint(signals: FleetSignals, end: int) -> str:
    """A hash of what a model was fitted from: pools, grid, scores and the fleet's own nodes."""
    h = hashlib.sha256()
    h.update("|".join(p.name for p in signals.pools).encode())
    h.update(str(signals.gap_seconds).encode())
    for a in (signals.placement_score, signals.held, signals.losses(), signals.launches_refused):
        h.update(np.ascontiguousarray(a[:, :end]).tobytes())
    return h.hexdigest()[:16]


def _masked(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], ticks: npt.NDArray[np.int64]
) -> LabelledRows:
    mask = ~np.isnan(y)
    tick_of = np.broadcast_to(ticks[:, None], y.shape)[mask]
    pool_of = np.broadcast_to(np.arange(y.shape[1])[None, :], y.shape)[mask]
    return LabelledRows(x[mask], y[mask], tick_of, pool_of, SIGNAL_FEATURES)


def train_prior(
    series: MarketSeries,
    *,
    end: int | None = None,
    settings: ModelSettings = _DEFAULT_SETTINGS,
    score_every_s: float,
    score_target: int,
    on_iteration: Callable[[int, int], None] | None = None,
    leave_out: tuple[int, int] | None = None,
) -> TrainedModel:
    """The prior: trace ticks before ``end`` through the production-signal mapping, labelled by
    the trace's capacity drops (the only place a capacity number is read: as the label).

    ``leave_out=(a, b)`` drops every row whose label reads a tick of ``[a, b)``, so a window
    can be scored by a model fitted on the days around it (``window_scores.score_left_out``).
    """
    end = series.n_ticks if end is None else min(end, series.n_ticks)
    signals = signals_from_market(
        series.prefix(end), score_every_s=score_every_s, score_target=score_target
    )
    ticks = np.arange(0, end, max(1, settings.tick_stride), dtype=np.int64)
    if leave_out is not None:
        a, b = leave_out
        h = horizon_ticks(settings.horizon_s, series.gap_seconds)
        ticks = ticks[(ticks + h < a) | (ticks >= b)]
    belief = belief_series(signals)
    x = compute_signal_features(signals, ticks, belief=belief)
    y = loss_labels(
        series.capacity[:, :end],
        ticks,
        horizon_seconds=settings.horizon_s,
        gap_seconds=series.gap_seconds,
        known_until=end,
    )
    model = fit_rows(
        _masked(x, y, ticks),
        series=belief,
        end=end,
        settings=settings,
        data_fingerprint=signals_fingerprint(signals, end),
        on_iteration=on_iteration,
        extra_meta={"trained_on": "prior: public traces through the production-signal mapping"},
    )
    return model


def train_own(
    signals: FleetSignals,
    *,
    end: int | None = None,
    settings: ModelSettings = _DEFAULT_SETTINGS,
    on_iteration: Callable[[int, int], None] | None = None,
) -> TrainedModel:
    """The fleet's own model: its signals before ``end``, labelled by its own nodes."""
    end = signals.n_ticks if end is None else min(end, signals.n_ticks)
    ticks = np.arange(0, end, max(1, settings.tick_stride), dtype=np.int64)
    belief = belief_series(signals.prefix(end))
    x = compute_signal_features(signals.prefix(end), ticks, belief=belief)
    y = fleet_loss_labels(signals, ticks, horizon_seconds=settings.horizon_s, known_until=end)
    return fit_rows(
        _masked(x, y, ticks),
        series=belief,
        end=end,
        settings=settings,
        data_fingerprint=signals_fingerprint(signals, end),
        on_iteration=on_iteration,
        extra_meta={"trained_on": "own: the fleet's nodes, warnings and refused launches"},
    )


@dataclass(frozen=True)
class PriorAndOwn:
    """The prior and the fleet's own model, blended by the own evidence (module docstring)."""

    prior: TrainedModel | None
    own: TrainedModel | None
    settings: ModelSettings
    own_evidence_k: float = OWN_EVIDENCE_K

    @property
    def own_losses(self) -> int:
        if self.own is None:
            return 0
        rows = self.own.meta.get("rows", {})
        # Artifacts written before "all" was recorded: the probe's rows, a horizon short.
        total = int(rows.get("all", int(rows.get("fit", 0)) + int(rows.get("holdout", 0))))
        return round(float(rows.get("loss_rate", 0.0)) * total)

    @property
    def own_weight(self) -> float:
        if self.own is None:
            return 0.0
        if self.prior is None:
            return 1.0
        n = self.own_losses
        return n / (n + self.own_evidence_k)

    @property
    def horizon_s(self) -> float:
        for m in (self.own, self.prior):
            if m is not None:
                return m.horizon_s
        return self.settings.horizon_s

    @property
    def meta(self) -> dict[str, Any]:
        return {
            "own_weight": self.own_weight,
            "own_losses": self.own_losses,
            "own_evidence_k": self.own_evidence_k,
            "prior": None if self.prior is None else self.prior.meta,
            "own": None if self.own is None else self.own.meta,
        }

    def predict_features(self, features: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """P(loss within H) per row of a SIGNAL_FEATURES array (..., F)."""
        if self.prior is None and self.own is None:
            raise ValueError("PriorAndOwn needs a prior or an own model; neither was fitted")
        w = self.own_weight
        parts = []
        if self.prior is not None and w < 1.0:
            parts.append((1.0 - w, self.prior.predict_features(features)))
        if self.own is not None and w > 0.0:
            parts.append((w, self.own.predict_features(features)))
        out: npt.NDArray[np.float64] = sum(
            (weight * p for weight, p in parts), np.zeros(features.shape[:-1])
        )
        return out
