"""The embedded default's two clocks: the market's, replaying a recorded trace faster than real
time, and the wall clock that node processes and jobs run on.

The daemon lives on the market clock (its history, decisions and safety windows are in market
time); its schedule's cadences and the jobs' own durations are wall seconds. ``compression``
converts between them: one wall second is ``compression`` market seconds.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

__all__ = ["MarketClock"]


@dataclass
class MarketClock:
    start: datetime  # market time when the replay starts (UTC, aware)
    gap_s: int  # market seconds between two ticks of the trace
    ticks_per_s: float  # trace ticks played per wall second
    first_tick: int = 0  # the trace tick at ``start``
    wall: Callable[[], float] = time.monotonic
    _wall0: float = field(init=False)

    def __post_init__(self) -> None:
        if self.start.tzinfo is None:
            raise ValueError("the market clock's start must be timezone-aware (UTC)")
        if self.ticks_per_s <= 0 or self.gap_s <= 0:
            raise ValueError("ticks per second and the gap between ticks must be positive")
        self._wall0 = self.wall()

    @property
    def compression(self) -> float:
        """Market seconds per wall second."""
        return self.ticks_per_s * self.gap_s

    def begin(self) -> None:
        """Start the replay now: the market stays at ``start`` until this is called again
        or time passes after it (setup that takes wall time does not eat the market)."""
        self._wall0 = self.wall()

    def elapsed_s(self) -> float:
        """Wall seconds since the replay started."""
        return self.wall() - self._wall0

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.elapsed_s() * self.compression)

    def tick(self) -> int:
        """The trace tick in force now."""
        return self.first_tick + math.floor(self.elapsed_s() * self.ticks_per_s)

    def wall_s(self, market_s: float) -> float:
        """How many wall seconds ``market_s`` market seconds take."""
        return market_s / self.compression
