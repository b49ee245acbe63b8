"""Fleet signals: what AWS shows a running fleet, per pool on one tick grid.

``FleetSignals`` is the planner's whole view of the market: spot and on-demand prices, the
Spot Advisor band, Spot placement scores (1-10 at the ticks a score was collected, NaN
elsewhere), and the fleet's own nodes: held, warned, interrupted, and the launches tried and
refused as ``InsufficientInstanceCapacity``. No capacity number is in it: AWS never gives one.

Builders: ``reconciler.core.history.fleet_signals.read_signals`` (the daemon's DuckDB
history, every fleet pooled), ``reconciler.replay.fleet_signals.ReplaySignals`` (what the
backtest's planner's own nodes saw) and ``signals_from_market`` below (a public trace seen by
a fleet that holds nothing there: the prior's training input).

Tick semantics: prices, scores, held nodes, warnings and interruptions at tick ``t`` are what
the observation at ``t`` knows; launches tried and refused at ``t`` happen after the decision
at ``t``, so the features at ``t`` read them from ticks before ``t`` only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from reconciler.core.market import MarketSeries, PoolInfo
from reconciler.core.placement_score import score_for

__all__ = ["FleetSignals", "score_ticks", "signals_from_market"]


@dataclass(frozen=True)
class FleetSignals:
    """Per-pool signals on one regular tick grid. Arrays are (pools, ticks) unless noted."""

    pools: tuple[PoolInfo, ...]
    gap_seconds: int
    t0: float  # epoch seconds of tick 0 (UTC)
    spot_price: npt.NDArray[np.float64]  # $/h
    on_demand_price: npt.NDArray[np.float64]  # (pools,) $/h
    advisor_band: npt.NDArray[np.float64]  # (pools,) 0..4, NaN where unknown
    placement_score: npt.NDArray[np.float64]  # 1..10 where collected at that tick, else NaN
    score_target: int  # the target capacity the scores answer (nodes)
    held: npt.NDArray[np.int32]  # the fleet's spot nodes in the pool
    warned: npt.NDArray[np.int32]  # spot interruption warnings of its nodes there
    interrupted: npt.NDArray[np.int32]  # its nodes AWS took back there
    launches_tried: npt.NDArray[np.int32]
    launches_refused: npt.NDArray[np.int32]  # InsufficientInstanceCapacity and the like
    # (pools,) the first tick with a real observation of each pool; earlier ticks are fill.
    observed_from: npt.NDArray[np.int64] | None = None

    @property
    def n_ticks(self) -> int:
        return int(self.spot_price.shape[1])

    def first_observed(self) -> npt.NDArray[np.int64]:
        if self.observed_from is None:
            return np.zeros(len(self.pools), dtype=np.int64)
        return self.observed_from

    def losses(self) -> npt.NDArray[np.int32]:
        """Nodes lost per pool and tick: a warning and the interruption it announces are one."""
        out: npt.NDArray[np.int32] = np.maximum(self.warned, self.interrupted)
        return out

    def prefix(self, end: int) -> FleetSignals:
        """The signals up to tick ``end`` (exclusive)."""

        def cut(a: npt.NDArray[np.int32]) -> npt.NDArray[np.int32]:
            return a[:, :end]

        return FleetSignals(
            pools=self.pools,
            gap_seconds=self.gap_seconds,
            t0=self.t0,
            spot_price=self.spot_price[:, :end],
            on_demand_price=self.on_demand_price,
            advisor_band=self.advisor_band,
            placement_score=self.placement_score[:, :end],
            score_target=self.score_target,
            held=cut(self.held),
            warned=cut(self.warned),
            interrupted=cut(self.interrupted),
            launches_tried=cut(self.launches_tried),
            launches_refused=cut(self.launches_refused),
            observed_from=self.observed_from,
        )


def score_ticks(n_ticks: int, *, gap_seconds: int, every_s: float) -> npt.NDArray[np.bool_]:
    """(ticks,) True at the ticks a collector scoring every ``every_s`` seconds has a score."""
    every = max(1, round(every_s / gap_seconds))
    out: npt.NDArray[np.bool_] = np.arange(n_ticks) % every == 0
    return out


def signals_from_market(
    series: MarketSeries, *, score_every_s: float, score_target: int
) -> FleetSignals:
    """A trace as a fleet holding nothing would see it: scores from the free capacity at the
    collector's cadence (``reconciler.core.placement_score``), prices, no node of its own."""
    shape = series.capacity.shape
    at = score_ticks(shape[1], gap_seconds=series.gap_seconds, every_s=score_every_s)
    scores = np.full(shape, np.nan)
    scored = series.capacity[:, at]
    scores[:, at] = np.vectorize(lambda c: score_for(int(c), score_target), otypes=[float])(scored)
    zeros = np.zeros(shape, dtype=np.int32)
    return FleetSignals(
        pools=series.pools,
        gap_seconds=series.gap_seconds,
        t0=series.t0,
        spot_price=np.broadcast_to(series.spot_price, shape).astype(np.float64),
        on_demand_price=series.on_demand_price,
        advisor_band=series.advisor_band,
        placement_score=scores,
        score_target=score_target,
        held=zeros,
        warned=zeros,
        interrupted=zeros,
        launches_tried=zeros,
        launches_refused=zeros,
        observed_from=series.observed_from,
    )
