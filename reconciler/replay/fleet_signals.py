"""The backtest's production signals: what the planner's own nodes saw, tick by tick.

``ReplaySignals`` builds the ``FleetSignals`` a daemon would have on AWS from a replay: the
fleet held nothing before the window; each tick it records the nodes held, a node the market
took as a spot interruption warning and its interruption (the trace's gap is longer than the
two-minute notice, so both fall in the tick of the loss), the launches the groups tried and
those refused as ``InsufficientInstanceCapacity``. Placement scores come from the trace's free
capacity (capacity minus the nodes held) at the collector's cadence, through the one mapping
of ``reconciler.core.placement_score``. Prices are the replay's (REPLAY.md: one per pool).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from reconciler.core.market import MarketSeries
from reconciler.core.placement_score import score_for
from reconciler.core.signals import FleetSignals, score_ticks, signals_from_market
from reconciler.replay.types import Node

__all__ = ["ReplaySignals"]


class ReplaySignals:
    def __init__(
        self,
        market: MarketSeries,
        *,
        start: int,
        end: int,
        score_every_s: float,
        score_target: int,
    ) -> None:
        """``market``: what the policy was shown (ticks up to ``start``); ``end``: the window's."""
        n_pools = len(market.pools)
        before = signals_from_market(
            market.prefix(start), score_every_s=score_every_s, score_target=score_target
        )
        self._target = score_target
        self._scored_at = score_ticks(end, gap_seconds=market.gap_seconds, every_s=score_every_s)
        spot = market.spot_price[:, -1].astype(np.float64)
        self._score = np.full((n_pools, end), np.nan)
        self._score[:, :start] = before.placement_score
        zeros = [np.zeros((n_pools, end), dtype=np.int32) for _ in range(5)]
        self._held, self._warned, self._interrupted, self._tried, self._refused = zeros
        self._base = FleetSignals(
            pools=market.pools,
            gap_seconds=market.gap_seconds,
            t0=market.t0,
            spot_price=np.broadcast_to(spot[:, None], (n_pools, end)),
            on_demand_price=market.on_demand_price,
            advisor_band=market.advisor_band,
            placement_score=self._score,
            score_target=score_target,
            held=self._held,
            warned=self._warned,
            interrupted=self._interrupted,
            launches_tried=self._tried,
            launches_refused=self._refused,
            observed_from=market.observed_from,
        )

    def observe(
        self,
        tick: int,
        *,
        capacity: npt.NDArray[np.int32],
        nodes: tuple[Node, ...],
        lost: Mapping[int, int],
    ) -> FleetSignals:
        """Record the observation at ``tick`` (``lost``: nodes the market took, by pool) and
        return the signals up to it."""
        for node in nodes:
            if node.pool is not None:
                self._held[node.pool, tick] += 1
        for pool, count in lost.items():
            self._warned[pool, tick] += count
            self._interrupted[pool, tick] += count
        if self._scored_at[tick]:
            free = capacity.astype(np.int64) - self._held[:, tick]
            self._score[:, tick] = [score_for(int(f), self._target) for f in free]
        return self._base.prefix(tick + 1)

    def launched(self, tick: int, *, tried: Mapping[int, int], refused: Mapping[int, int]) -> None:
        """Record the launches the groups tried at ``tick`` and those refused, by pool."""
        for pool, count in tried.items():
            self._tried[pool, tick] += count
        for pool, count in refused.items():
            self._refused[pool, tick] += count
