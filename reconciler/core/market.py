"""Market series: the arrays every feature is computed from, for replay and live alike.

A ``MarketSeries`` is a regular grid of ticks (``gap_seconds`` apart, tick 0 at
``t0``) holding, per pool, the spot capacity seen, the spot price, the on-demand price
and the Spot Advisor band. Backtests build it from trace files (``reconciler.core.traces``);
the daemon builds it from the DuckDB history (``reconciler.core.history.market_series``).
Features never see anything else, which is what makes the two paths agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["MarketSeries", "PoolInfo"]


@dataclass(frozen=True, slots=True)
class PoolInfo:
    """One spot capacity pool, named ``region/zone/instance_type``."""

    region: str
    zone: str
    instance_type: str

    @property
    def name(self) -> str:
        return f"{self.region}/{self.zone}/{self.instance_type}"


@dataclass(frozen=True)
class MarketSeries:
    """Per-pool series on one regular tick grid. Arrays are (pools, ticks) unless noted."""

    pools: tuple[PoolInfo, ...]
    gap_seconds: int
    t0: float  # epoch seconds of tick 0 (UTC)
    capacity: npt.NDArray[np.int32]
    spot_price: npt.NDArray[np.float64]  # $/h; may be a broadcast view of a constant
    on_demand_price: npt.NDArray[np.float64]  # (pools,) $/h
    advisor_band: npt.NDArray[np.float64]  # (pools,) 0..4, NaN where unknown
    # (pools,) the first tick with a real observation of each pool; earlier ticks are fill.
    observed_from: npt.NDArray[np.int64] | None = None
    # (pools, ticks) interruption warnings of the fleet's own nodes in each pool, counted at the
    # first tick at or after each warning. AWS never says how much capacity a pool has, but it
    # does warn the nodes it takes back: on AWS these are the losses (labels and features).
    # None where nothing warns (trace files: their capacity drops are the losses).
    warnings: npt.NDArray[np.int32] | None = None

    def first_observed(self) -> npt.NDArray[np.int64]:
        if self.observed_from is None:
            return np.zeros(len(self.pools), dtype=np.int64)
        return self.observed_from

    @property
    def n_ticks(self) -> int:
        return int(self.capacity.shape[1])

    def prefix(self, end: int) -> MarketSeries:
        """The series up to tick ``end`` (exclusive): what was known at tick ``end - 1``."""
        return MarketSeries(
            pools=self.pools,
            gap_seconds=self.gap_seconds,
            t0=self.t0,
            capacity=self.capacity[:, :end],
            spot_price=self.spot_price[:, :end],
            on_demand_price=self.on_demand_price,
            advisor_band=self.advisor_band,
            observed_from=self.observed_from,
            warnings=None if self.warnings is None else self.warnings[:, :end],
        )
