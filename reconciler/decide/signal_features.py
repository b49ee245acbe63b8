"""The planner's features from fleet signals only (``reconciler.core.signals``).

AWS never says how much capacity a pool has. What a fleet can know is the room its latest
placement score stands for (``free_from_score``) plus the nodes it held then, less the nodes
it lost since, and no room beyond its own nodes once a launch there was refused or a node
there was taken back (the pool is at its edge) until the next score: the **believed capacity**
(``believed_capacity``). The capacity features of ``reconciler.decide.features`` (one
definition) are computed over that belief, with the fleet's own losses as drops, and six
columns only the signals have follow: the last score, its age and change over 24 h, the
nodes held, and the time since and count of refused launches.

Everything at tick ``t`` comes from ticks ``0..t`` (refusals: ticks before ``t``, since a
launch at ``t`` follows the decision at ``t``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from reconciler.core.market import MarketSeries
from reconciler.core.placement_score import free_from_scores
from reconciler.core.signals import FleetSignals
from reconciler.decide.features import DAY, FEATURES, WEEK, compute_features, window_ticks_of

__all__ = ["SIGNAL_FEATURES", "belief_series", "believed_capacity", "compute_signal_features"]

# The capacity-derived columns of FEATURES read the believed capacity here: named so.
_BELIEF = {
    "capacity", "up_run_s", "down_run_s", "avail_1h", "avail_6h", "avail_24h", "avail_7d",
    "transitions_24h", "region_now", "region_1h", "avail_all",
}  # fmt: skip
SIGNAL_FEATURES: tuple[str, ...] = (
    *(f"believed_{f}" if f in _BELIEF else f for f in FEATURES),
    "score",  # the last placement score collected (NaN: none yet)
    "score_age_s",  # how old it is; capped at 7 d
    "score_change_24h",  # the last score now minus the last one 24 h ago
    "held",  # the fleet's nodes in the pool now
    "since_refusal_s",  # since a launch there was last refused; capped at 7 d
    "refusals_24h",  # launches refused there over the last 24 h
)


def _last_index(mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
    """Per row and tick, the last tick at or before it where ``mask`` holds (-1: none)."""
    idx = np.where(mask, np.arange(mask.shape[1]), -1)
    out: npt.NDArray[np.int64] = np.maximum.accumulate(idx, axis=1)
    return out


def _before(counts: npt.NDArray[np.int32]) -> npt.NDArray[np.int64]:
    """c[:, i] = counts summed over ticks 0..i-1 (a leading zero, one longer than counts)."""
    zero = np.zeros((counts.shape[0], 1), np.int64)
    return np.concatenate([zero, np.cumsum(counts, axis=1, dtype=np.int64)], axis=1)


def believed_capacity(signals: FleetSignals) -> npt.NDArray[np.int32]:
    """(pools, ticks) the capacity a fleet can believe a pool has from its own signals.

    ``held[s] + free_from_score(score[s])`` at the last scored tick ``s``, less the nodes lost
    in ``(s, t]``; at most what it holds once a launch there was refused in ``[s, t)`` or a
    node there was lost in ``(s, t]`` (the pool is at its edge); never below what it holds;
    what it holds where no score was ever collected.
    """
    score = signals.placement_score
    n_pools, n = score.shape
    rows = np.arange(n_pools)[:, None]
    last = _last_index(~np.isnan(score))
    s = np.maximum(last, 0)
    at_s = score[rows, s]
    scored = last >= 0
    free = np.where(scored, free_from_scores(at_s, signals.score_target), 0)
    held = signals.held.astype(np.int64)
    lost = _before(signals.losses())  # lost[:, i] = losses in ticks < i
    t = np.arange(n)[None, :]
    lost_since = lost[:, t[0] + 1] - lost[rows, s + 1]
    refused = _before(signals.launches_refused)
    refused_since = refused[:, t[0]] - refused[rows, s]
    belief = held[rows, s] + free - lost_since
    # A refused launch and a preemption both say the pool has no room beyond what is held
    # (AWS takes a spot node back only when it needs the capacity): only the held nodes
    # until a new score says otherwise, as Karpenter keeps an offering unavailable after ICE.
    belief = np.where((refused_since > 0) | (lost_since > 0), np.minimum(belief, held), belief)
    belief = np.where(scored, np.maximum(belief, held), held)
    return belief.astype(np.int32)


def belief_series(signals: FleetSignals) -> MarketSeries:
    """The signals as market series over the believed capacity, the fleet's losses as drops."""
    return MarketSeries(
        pools=signals.pools,
        gap_seconds=signals.gap_seconds,
        t0=signals.t0,
        capacity=believed_capacity(signals),
        spot_price=signals.spot_price,
        on_demand_price=signals.on_demand_price,
        advisor_band=signals.advisor_band,
        observed_from=signals.observed_from,
        warnings=signals.losses(),
    )


def compute_signal_features(
    signals: FleetSignals,
    ticks: Sequence[int] | npt.NDArray[np.int64],
    *,
    belief: MarketSeries | None = None,
) -> npt.NDArray[np.float64]:
    """Features (len(ticks), pools, len(SIGNAL_FEATURES)) at each tick, from ticks 0..t only.

    ``belief`` is ``belief_series(signals)`` when the caller already has it.
    """
    at = np.asarray(ticks, dtype=np.int64)
    series = belief_series(signals) if belief is None else belief
    base = compute_features(series, at)  # (n, P, F)
    if at.size == 0:
        return np.zeros((0, len(signals.pools), len(SIGNAL_FEATURES)))
    gap = signals.gap_seconds
    score = signals.placement_score
    last = _last_index(~np.isnan(score))
    rows = np.arange(len(signals.pools))[:, None]
    last_at = last[:, at]
    score_now = np.where(last_at >= 0, score[rows, np.maximum(last_at, 0)], np.nan)
    age = np.where(last_at >= 0, np.minimum((at - last_at) * gap, WEEK), WEEK).astype(float)
    w24 = window_ticks_of(DAY, gap)
    then = last[:, np.maximum(at - w24, 0)]
    score_then = np.where(then >= 0, score[rows, np.maximum(then, 0)], np.nan)
    refused = _before(signals.launches_refused)  # refusals in ticks < i
    last_refusal = _last_index(signals.launches_refused > 0)
    before_t = np.maximum(at - 1, 0)
    lr = np.where(at > 0, last_refusal[:, before_t], -1)
    since_refusal = np.where(lr >= 0, np.minimum((at - lr) * gap, WEEK), WEEK).astype(float)
    refusals_24h = (refused[:, at] - refused[:, np.maximum(at - w24, 0)]).astype(float)
    extra = np.stack(
        [
            score_now,
            age,
            score_now - score_then,
            signals.held[:, at].astype(float),
            since_refusal,
            refusals_24h,
        ],
        axis=-1,
    )  # (P, n, 6)
    return np.concatenate([base, extra.transpose(1, 0, 2)], axis=-1)
