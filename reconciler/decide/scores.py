"""Scoring probabilities with numpy alone: AUC, Brier score, calibration."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["CalibrationBin", "auc", "brier", "calibration", "expected_calibration_error"]

FloatArray = npt.NDArray[np.float64]


def auc(labels: FloatArray, scores: FloatArray) -> float:
    """Area under the ROC curve (ties count half); NaN when one class is absent."""
    y = np.asarray(labels, dtype=bool)
    s = np.asarray(scores, dtype=np.float64)
    n_pos = int(y.sum())
    n_neg = y.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    # Mann-Whitney U with midranks, so tied scores contribute one half.
    order = np.argsort(s, kind="mergesort")
    sorted_s = s[order]
    ranks = np.empty(s.size, dtype=np.float64)
    _, first, counts = np.unique(sorted_s, return_index=True, return_counts=True)
    midranks = first + (counts - 1) / 2.0 + 1.0
    ranks[order] = np.repeat(midranks, counts)
    u = ranks[y].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def brier(labels: FloatArray, probabilities: FloatArray) -> float:
    """Mean squared difference between probability and outcome (lower is better)."""
    y = np.asarray(labels, dtype=np.float64)
    p = np.clip(np.asarray(probabilities, dtype=np.float64), 0.0, 1.0)
    return float(np.mean((p - y) ** 2))


@dataclass(frozen=True, slots=True)
class CalibrationBin:
    low: float
    high: float
    count: int
    mean_predicted: float
    observed: float


def calibration(
    labels: FloatArray, probabilities: FloatArray, bins: int = 10
) -> list[CalibrationBin]:
    """Reliability table: in each probability bin, the mean prediction and the observed rate."""
    y = np.asarray(labels, dtype=np.float64)
    p = np.clip(np.asarray(probabilities, dtype=np.float64), 0.0, 1.0)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.minimum(np.searchsorted(edges, p, side="right") - 1, bins - 1)
    out: list[CalibrationBin] = []
    for b in range(bins):
        mask = which == b
        n = int(mask.sum())
        if n:
            out.append(
                CalibrationBin(
                    float(edges[b]),
                    float(edges[b + 1]),
                    n,
                    float(p[mask].mean()),
                    float(y[mask].mean()),
                )
            )
    return out


def expected_calibration_error(bins: list[CalibrationBin]) -> float:
    total = sum(b.count for b in bins)
    if total == 0:
        return float("nan")
    return sum(b.count * abs(b.mean_predicted - b.observed) for b in bins) / total
