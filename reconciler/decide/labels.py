"""What the interruption model learns: does a pool with capacity lose some within H?

A loss is a drop of the pool's capacity (what a capacity trace shows) or an interruption
warning of one of the fleet's nodes in the pool (what AWS shows a running fleet, whose
capacity is only guessed from offered prices and never drops): "a node held in pool p at t is
warned within H".
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from reconciler.decide.features import horizon_ticks

__all__ = ["loss_labels"]


def loss_labels(
    capacity: npt.NDArray[np.int32],
    ticks: Sequence[int] | npt.NDArray[np.int64],
    *,
    horizon_seconds: float,
    gap_seconds: int,
    known_until: int | None = None,
    warnings: npt.NDArray[np.int32] | None = None,
) -> npt.NDArray[np.float64]:
    """(len(ticks), pools): 1 if capacity drops below its level at t within the horizon, or
    (``warnings``, pools x ticks) a node of the pool is warned within it.

    NaN where there is no label: no capacity at ``t`` (nothing to lose), or the horizon
    reaches tick ``known_until`` or later (default: the end of the series), so a model
    fitted before a window never learns from the window's ticks.
    """
    at = np.asarray(ticks, dtype=np.int64)
    h = horizon_ticks(horizon_seconds, gap_seconds)
    end = capacity.shape[1] if known_until is None else min(known_until, capacity.shape[1])
    out = np.full((at.size, capacity.shape[0]), np.nan)
    usable = at + h < end
    if not usable.any():
        return out
    # future_min[:, t] = min(capacity[:, t+1 .. t+h]) for every t with a full horizon.
    future_min = sliding_window_view(capacity[:, 1:end], h, axis=1).min(axis=2)
    good = at[usable]
    now = capacity[:, good]
    dropped = future_min[:, good] < now
    if warnings is not None:
        # warned_ahead[:, t] = warnings in ticks t+1 .. t+h.
        ahead = sliding_window_view(warnings[:, 1:end], h, axis=1).sum(axis=2)
        dropped |= ahead[:, good] > 0
    lost = dropped.astype(np.float64)
    lost[now <= 0] = np.nan
    out[usable] = lost.T
    return out
