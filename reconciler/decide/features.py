"""Pool features at a tick, from history only: the one definition every path uses.

``compute_features(series, ticks)`` returns, for every requested tick ``t`` and every
pool, the features below computed from ticks ``0..t`` of ``series`` and nothing later
(tested: changing data after ``t`` never changes a feature at ``t``). Training computes
them for many ticks at once, a backtest for the current tick of the history it was
shown, and the daemon for the last tick of the series it read from DuckDB.

Work per call is bounded by the longest window (7 days) before the earliest requested
tick, plus one count over the older history for the long-run availability, so a live
decision over months of history stays fast.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from reconciler.core.market import MarketSeries

__all__ = ["FEATURES", "compute_features", "horizon_ticks", "window_ticks_of"]

HOUR = 3600
DAY = 24 * HOUR
WEEK = 7 * DAY

FEATURES: tuple[str, ...] = (
    "capacity",  # spot instances that can be held now
    "up_run_s",  # how long capacity has been there without a drop (0 when none now); capped at 7 d
    "down_run_s",  # how long capacity has been absent (0 when there is some now); capped at 7 d
    "avail_1h",  # fraction of ticks with capacity over the last hour
    "avail_6h",
    "avail_24h",
    "avail_7d",
    "transitions_24h",  # changes between capacity and none over the last 24 h
    "since_loss_s",  # time since capacity last dropped or a node was warned; capped at 7 d
    "hour_of_week",  # 0 = Monday 00:00 UTC
    "region_now",  # fraction of the same region's other pools of this type with capacity now
    "region_1h",  # their mean availability over the last hour
    "avail_all",  # long-run availability over the whole history
    "price_ratio",  # spot price / on-demand price now
    "price_change_24h",  # price_ratio now minus 24 h ago
    "advisor_band",  # Spot Advisor interruption band 0..4 (NaN: unknown)
)


def window_ticks_of(seconds: float, gap_seconds: int) -> int:
    """A window in seconds as a whole number of ticks (at least one)."""
    return max(1, round(seconds / gap_seconds))


def _peer_matrix(series: MarketSeries) -> npt.NDArray[np.float64]:
    """peer[p, o] = 1 where o is another zone's pool of p's region and instance type."""
    keys = [(p.region, p.instance_type) for p in series.pools]
    n = len(keys)
    peer = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            if i != j and keys[i] == keys[j]:
                peer[i, j] = 1.0
    return peer


def _peer_mean(
    peer: npt.NDArray[np.float64], values: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Mean of ``values`` (pools, n) over each pool's peers; NaN for a pool with none."""
    counts = peer.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out: npt.NDArray[np.float64] = (peer @ values) / counts[:, None]
    out[counts == 0, :] = np.nan
    return out


def compute_features(
    series: MarketSeries, ticks: Sequence[int] | npt.NDArray[np.int64]
) -> npt.NDArray[np.float64]:
    """Features (len(ticks), pools, len(FEATURES)) at each tick, from ticks 0..t only."""
    at = np.asarray(ticks, dtype=np.int64)
    n_pools, n_ticks = series.capacity.shape
    if at.size == 0:
        return np.zeros((0, n_pools, len(FEATURES)))
    if at.min() < 0 or at.max() >= n_ticks:
        raise IndexError(
            f"feature ticks {at.min()}..{at.max()} outside the series (0..{n_ticks - 1})"
        )
    gap = series.gap_seconds
    w1h, w6h, w24h, w7d = (window_ticks_of(s, gap) for s in (HOUR, 6 * HOUR, DAY, WEEK))
    # The slice [lo, hi) holds every tick any window of any requested tick can reach.
    lo = max(0, int(at.min()) + 1 - w7d - 1)
    hi = int(at.max()) + 1
    cap = series.capacity[:, lo:hi]
    up = (cap > 0).astype(np.int64)
    rel = at - lo  # requested ticks as slice indices
    idx = np.arange(hi - lo)

    # Cumulative counts with a leading zero: window sums are differences of two entries.
    csum = np.concatenate([np.zeros((n_pools, 1), np.int64), np.cumsum(up, axis=1)], axis=1)
    changes = np.zeros_like(up)
    changes[:, 1:] = up[:, 1:] != up[:, :-1]
    cchg = np.concatenate([np.zeros((n_pools, 1), np.int64), np.cumsum(changes, axis=1)], axis=1)

    def avail(w: int) -> npt.NDArray[np.float64]:
        first = np.maximum(rel + 1 - w, 0)
        count = np.minimum(w, at + 1)  # ticks that exist, counted from the true start
        got: npt.NDArray[np.float64] = (csum[:, rel + 1] - csum[:, first]) / count
        return got  # (pools, n)

    # Run of the current state: ticks since the state last changed (a slice start counts as
    # a change; the 7-day cap makes that exact whenever the slice does not start at tick 0).
    change_at = np.where(changes.astype(bool), idx, 0)
    change_at[:, 0] = 0
    last_change = np.maximum.accumulate(change_at, axis=1)[:, rel]
    run_s = np.minimum((rel - last_change + 1) * gap, WEEK).astype(np.float64)
    now_up = up[:, rel].astype(bool)

    drops = np.zeros_like(up, dtype=bool)
    drops[:, 1:] = cap[:, 1:] < cap[:, :-1]
    if series.warnings is not None:  # on AWS, the capacity never drops: its warnings do
        drops |= series.warnings[:, lo:hi] > 0
    drop_at = np.where(drops, idx, -(10**9))
    last_drop = np.maximum.accumulate(drop_at, axis=1)[:, rel]
    since_loss = np.minimum((rel - last_drop) * gap, WEEK).astype(np.float64)

    older = np.count_nonzero(series.capacity[:, :lo] > 0, axis=1) if lo > 0 else np.zeros(n_pools)
    avail_all = (older[:, None] + csum[:, rel + 1]) / (at + 1)

    first24 = np.maximum(rel + 1 - w24h, 0)
    transitions = (cchg[:, rel + 1] - cchg[:, first24 + 1]).astype(np.float64)

    epoch_s = series.t0 + at * gap
    # 1970-01-01 was a Thursday: shift by three days so that hour 0 is Monday 00:00.
    hour_of_week = np.floor(epoch_s / HOUR + 72) % 168

    peer = _peer_matrix(series)
    a1h = avail(w1h)
    region_now = _peer_mean(peer, now_up.astype(np.float64))
    region_1h = _peer_mean(peer, a1h)

    od = series.on_demand_price[:, None]
    ratio_now = series.spot_price[:, at] / od
    ratio_then = series.spot_price[:, np.maximum(at - w24h, 0)] / od

    columns = [
        cap[:, rel].astype(np.float64),
        np.where(now_up, run_s, 0.0),
        np.where(now_up, 0.0, run_s),
        a1h,
        avail(w6h),
        avail(w24h),
        avail(w7d),
        transitions,
        since_loss,
        np.broadcast_to(hour_of_week[None, :], (n_pools, at.size)),
        region_now,
        region_1h,
        avail_all,
        ratio_now,
        ratio_now - ratio_then,
        np.broadcast_to(series.advisor_band[:, None], (n_pools, at.size)),
    ]
    out = np.stack([np.asarray(c, dtype=np.float64) for c in columns], axis=-1)  # (pools, n, F)
    return np.ascontiguousarray(out.transpose(1, 0, 2))


def horizon_ticks(horizon_seconds: float, gap_seconds: int) -> int:
    """A prediction horizon as whole ticks, rounded up so it never covers less than asked."""
    return max(1, math.ceil(horizon_seconds / gap_seconds))
