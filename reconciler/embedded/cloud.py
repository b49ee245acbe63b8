"""EC2, as far as the embedded default needs it: spot capacity per pool follows the market
replay, a launch without capacity fails as AWS's does (InsufficientInstanceCapacity), and when
the market takes capacity back the newest instances get the spot notice first and are
reclaimed when it runs out. Every instance costs its pool's price per second held.

Pure bookkeeping: the caller brings the tick and the time, and carries out what comes back
(start a node process, write the notice, stop the process).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt

from analytics.pools import Pool
from reconciler.embedded.market import MarketPool

__all__ = ["Instance", "InsufficientCapacity", "LocalCloud", "MarketChange"]


class InsufficientCapacity(Exception):
    """As EC2's InsufficientInstanceCapacity: no spot capacity in that pool right now."""

    code = "InsufficientInstanceCapacity"


@dataclass
class Instance:
    instance_id: str
    pool: Pool
    lifecycle: str  # 'spot' or 'on-demand'
    hourly_price: float
    launched_at: datetime
    sequence: int  # launch order: the newest are reclaimed first
    notice_deadline: datetime | None = None
    terminated_at: datetime | None = None
    reason: str | None = None

    @property
    def running(self) -> bool:
        return self.terminated_at is None

    def cost(self, now: datetime) -> float:
        end = self.terminated_at or now
        return self.hourly_price * max((end - self.launched_at).total_seconds(), 0.0) / 3600


@dataclass(frozen=True)
class MarketChange:
    """What a tick of the market did: instances to warn, and instances to take away now."""

    noticed: tuple[Instance, ...] = ()
    reclaimed: tuple[Instance, ...] = ()


@dataclass
class LocalCloud:
    market: Sequence[MarketPool]
    notice: timedelta = timedelta(minutes=2)
    instances: dict[str, Instance] = field(default_factory=dict)
    _sequence: itertools.count[int] = field(default_factory=itertools.count)
    _tick: int = 0

    def __post_init__(self) -> None:
        self._by_pool = {m.pool: m for m in self.market}

    def capacity(self, pool: Pool) -> int:
        series: npt.NDArray[np.int32] = self._by_pool[pool].capacity
        return int(series[min(self._tick, len(series) - 1)])

    def free(self, pool: Pool) -> int:
        """Spot nodes the pool could still take now (none for a pool not offered)."""
        if pool not in self._by_pool:
            return 0
        return max(self.capacity(pool) - len(self._holding(pool)), 0)

    def _holding(self, pool: Pool) -> list[Instance]:
        """Spot instances counted against the pool: running and not yet warned."""
        return [
            i
            for i in self.instances.values()
            if i.pool == pool and i.lifecycle == "spot" and i.running and i.notice_deadline is None
        ]

    def launch(self, pool: Pool, lifecycle: str, now: datetime) -> Instance:
        if pool not in self._by_pool:
            # As AWS answers for a type not offered in a zone: nothing to launch there.
            raise InsufficientCapacity(f"{pool.instance_type} is not offered in {pool.zone}")
        market = self._by_pool[pool]
        if lifecycle == "spot" and len(self._holding(pool)) >= self.capacity(pool):
            raise InsufficientCapacity(f"no spot capacity in {pool} now")
        sequence = next(self._sequence)
        instance = Instance(
            instance_id=f"i-{sequence:017x}",
            pool=pool,
            lifecycle=lifecycle,
            hourly_price=market.spot_price if lifecycle == "spot" else market.on_demand_price,
            launched_at=now,
            sequence=sequence,
        )
        self.instances[instance.instance_id] = instance
        return instance

    def terminate(self, instance_id: str, now: datetime, reason: str) -> Instance:
        instance = self.instances[instance_id]
        if instance.running:
            instance.terminated_at, instance.reason = now, reason
        return instance

    def advance(self, tick: int, now: datetime) -> MarketChange:
        """Move the market to ``tick``: warn the newest instances of every pool that now holds
        more than its capacity, and reclaim the warned ones whose notice has run out."""
        self._tick = tick
        noticed = []
        for pool in self._by_pool:
            holding = sorted(self._holding(pool), key=lambda i: i.sequence, reverse=True)
            for instance in holding[: max(len(holding) - self.capacity(pool), 0)]:
                instance.notice_deadline = now + self.notice
                noticed.append(instance)
        reclaimed = [
            self.terminate(i.instance_id, now, "spot capacity reclaimed")
            for i in self.instances.values()
            if i.running and i.notice_deadline is not None and i.notice_deadline <= now
        ]
        return MarketChange(tuple(noticed), tuple(reclaimed))

    def cost(self, now: datetime) -> float:
        return sum(i.cost(now) for i in self.instances.values())
