"""What the model learns from a fleet's own signals, pooled over every fleet of the history.

Two questions, one per row of a pool at a tick:

- ``held_loss_labels``: a node held in pool ``p`` at ``t`` is warned or interrupted within H.
  1 at the first loss in ``(t, t + H]``; 0 when the pool held a node at every tick of the
  horizon without a loss; NaN (censored) when the fleet stopped holding there first (we
  drained it: what AWS would have done is unknown) or the horizon runs past ``known_until``
  with the node still running.
- ``launch_failure_labels``: a launch into ``p`` at ``t`` is refused (1) or not (0); NaN
  where nothing was launched there.

``fleet_loss_labels`` is the one label the interruption model fits: a node the fleet places
in ``p`` at ``t``, held or being launched, is lost (refused at once, or warned within H).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from reconciler.core.signals import FleetSignals
from reconciler.decide.features import horizon_ticks

__all__ = ["fleet_loss_labels", "held_loss_labels", "launch_failure_labels"]


def held_loss_labels(
    signals: FleetSignals,
    ticks: Sequence[int] | npt.NDArray[np.int64],
    *,
    horizon_seconds: float,
    known_until: int | None = None,
) -> npt.NDArray[np.float64]:
    """(len(ticks), pools): is a node held at ``t`` lost within the horizon (see the module)."""
    at = np.asarray(ticks, dtype=np.int64)
    n_pools, n = signals.held.shape
    end = n if known_until is None else min(known_until, n)
    h = horizon_ticks(horizon_seconds, signals.gap_seconds)
    out = np.full((at.size, n_pools), np.nan)
    inside = (at >= 0) & (at < end)
    if not inside.any():
        return out
    # Pad past the end: a loss seen before the end still labels 1; the rest is censored.
    lost = np.zeros((n_pools, end + h + 1), dtype=np.int64)
    lost[:, :end] = signals.losses()[:, :end]
    held = np.zeros((n_pools, end + h + 1), dtype=np.int64)
    held[:, :end] = signals.held[:, :end]
    seen = np.zeros(end + h + 1, dtype=bool)
    seen[:end] = True
    ahead_lost = sliding_window_view(lost[:, 1:], h, axis=1)[:, :end]  # ticks t+1 .. t+h
    ahead_held = sliding_window_view(held[:, 1:], h, axis=1)[:, :end]
    ahead_seen = sliding_window_view(seen[1:], h)[:end]
    good = at[inside]
    any_lost = ahead_lost[:, good].sum(axis=2) > 0
    # Held through the horizon: every tick up to the first loss (or all h) still holds one.
    first_loss = np.where(any_lost, ahead_lost[:, good].argmax(axis=2), h)
    steps = np.arange(h)[None, None, :]
    before_loss = steps < first_loss[:, :, None]
    kept = np.all((ahead_held[:, good] > 0) | ~before_loss, axis=2)
    whole = ahead_seen[good].all(axis=1)[None, :]
    label = np.where(any_lost, 1.0, np.where(kept & whole, 0.0, np.nan))
    label[signals.held[:, good] <= 0] = np.nan
    out[inside] = label.T
    return out


def launch_failure_labels(
    signals: FleetSignals,
    ticks: Sequence[int] | npt.NDArray[np.int64],
    *,
    known_until: int | None = None,
) -> npt.NDArray[np.float64]:
    """(len(ticks), pools): 1 where a launch at ``t`` was refused, 0 where launches all went in."""
    at = np.asarray(ticks, dtype=np.int64)
    n = signals.held.shape[1]
    end = n if known_until is None else min(known_until, n)
    out = np.full((at.size, len(signals.pools)), np.nan)
    inside = (at >= 0) & (at < end)
    good = at[inside]
    tried = signals.launches_tried[:, good] > 0
    refused = signals.launches_refused[:, good] > 0
    label = np.where(refused, 1.0, np.where(tried, 0.0, np.nan))
    out[inside] = label.T
    return out


def fleet_loss_labels(
    signals: FleetSignals,
    ticks: Sequence[int] | npt.NDArray[np.int64],
    *,
    horizon_seconds: float,
    known_until: int | None = None,
) -> npt.NDArray[np.float64]:
    """(len(ticks), pools): a refused launch is a loss at once; otherwise the held label."""
    held = held_loss_labels(
        signals, ticks, horizon_seconds=horizon_seconds, known_until=known_until
    )
    launch = launch_failure_labels(signals, ticks, known_until=known_until)
    out: npt.NDArray[np.float64] = np.where(launch == 1.0, 1.0, np.fmax(held, launch))
    return out
