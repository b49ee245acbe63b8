"""The one mapping between a zone's free spot room and a Spot placement score (1-10).

AWS does not publish how it scores. Where spotfleet has to make scores up (the embedded
default's EC2, and the backtest's production signals over public capacity traces), a zone's
score says how much of a ``target``-node request its free spot capacity could take now:

    score = clamp(1 + round(9 * free / target), 1, 10)

so no room scores 1 and room for the whole target scores 10. ``free_from_score`` reads a score
back as the free room it stands for (exact for targets up to 9; coarser above), which is all a
fleet can learn of a pool's capacity from AWS.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["free_from_score", "free_from_scores", "score_for"]


def score_for(free: int, target: int) -> int:
    """The 1-10 score of a zone with ``free`` spot nodes of room for a ``target``-node request."""
    if target < 1:
        raise ValueError(f"target capacity must be at least 1, not {target}")
    return max(1, min(10, 1 + round(9 * max(free, 0) / target)))


def free_from_score(score: float, target: int) -> int:
    """The free room (nodes) a score stands for under ``score_for``'s mapping."""
    if target < 1:
        raise ValueError(f"target capacity must be at least 1, not {target}")
    return max(0, round((min(max(score, 1.0), 10.0) - 1.0) * target / 9.0))


def free_from_scores(scores: npt.NDArray[np.float64], target: int) -> npt.NDArray[np.int64]:
    """``free_from_score`` over an array (NaN scores read as no room)."""
    if target < 1:
        raise ValueError(f"target capacity must be at least 1, not {target}")
    clipped = np.clip(np.nan_to_num(scores, nan=1.0), 1.0, 10.0)
    # np.rint rounds halves to even, as Python's round does: the same numbers as the scalar.
    out: npt.NDArray[np.int64] = np.maximum(0, np.rint((clipped - 1.0) * target / 9.0)).astype(
        np.int64
    )
    return out
