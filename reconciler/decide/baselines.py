"""The two baselines the model must beat: 1 - 24 h availability, and an EWMA of transitions."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from reconciler.decide.features import FEATURES, horizon_ticks

__all__ = ["EWMA_HALF_LIFE_S", "availability_baseline", "ewma_transitions"]

EWMA_HALF_LIFE_S = 6 * 3600.0
_AVAIL_24H = FEATURES.index("avail_24h")


def availability_baseline(features: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """P(loss) taken as one minus the 24-hour availability, from a feature array (..., F),
    held to [0, 1] so every caller gets a probability."""
    out: npt.NDArray[np.float64] = np.clip(1.0 - features[..., _AVAIL_24H], 0.0, 1.0)
    return out


def ewma_transitions(
    capacity: npt.NDArray[np.int32],
    ticks: Sequence[int] | npt.NDArray[np.int64],
    *,
    gap_seconds: int,
    horizon_seconds: float,
    half_life_s: float = EWMA_HALF_LIFE_S,
) -> npt.NDArray[np.float64]:
    """(len(ticks), pools): P(loss within H) from an EWMA of changes per tick, causal.

    About half the changes are losses, so a change rate r per tick gives
    P(loss within h ticks) = 1 - exp(-r·h/2).
    """
    at = np.asarray(ticks, dtype=np.int64)
    up = capacity > 0
    change = np.zeros(up.shape, dtype=np.float64)
    change[:, 1:] = up[:, 1:] != up[:, :-1]
    alpha = 1.0 - 0.5 ** (gap_seconds / half_life_s)
    rate = np.zeros(up.shape[0])
    rates = np.empty(up.shape, dtype=np.float64)
    # A recursion over ticks, vectorised over pools: O(ticks) Python steps, only for metrics.
    for t in range(int(at.max()) + 1 if at.size else 0):
        rate = (1 - alpha) * rate + alpha * change[:, t]
        rates[:, t] = rate
    h = horizon_ticks(horizon_seconds, gap_seconds)
    out: npt.NDArray[np.float64] = 1.0 - np.exp(-rates[:, at].T * h / 2.0)
    return out
