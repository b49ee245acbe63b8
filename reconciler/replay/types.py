"""What a replay policy sees and returns (REPLAY.md, steps 2 and 3)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from reconciler.core.market import MarketSeries

__all__ = ["ON_DEMAND", "Decision", "Node", "Observation", "Policy", "ReplaySetup"]

# A launch target naming no spot pool: an on-demand node.
ON_DEMAND: None = None


@dataclass(frozen=True, slots=True)
class Node:
    """One node a policy holds. ``pool`` is a pool index, or None for on-demand."""

    node_id: int
    pool: int | None
    launch_tick: int
    ready_tick: int

    @property
    def spot(self) -> bool:
        return self.pool is not None

    def ready(self, tick: int) -> bool:
        return self.ready_tick <= tick


@dataclass(frozen=True)
class ReplaySetup:
    """What a policy is told once, before the first scored tick."""

    market: MarketSeries  # names, prices, and the series up to and including tick `start`
    start: int
    end: int
    k: int
    ready_delay: int  # ticks from launch to ready


@dataclass(frozen=True)
class Observation:
    """Step 2: the history up to and including ``tick``, the policy's nodes, and K."""

    tick: int
    history: npt.NDArray[np.int32]  # (pools, tick + 1), read-only
    nodes: tuple[Node, ...]
    k: int


@dataclass(frozen=True, slots=True)
class Decision:
    """Step 3: node ids to terminate, then launches to try in order (pool index or None)."""

    terminate: tuple[int, ...] = ()
    launches: tuple[int | None, ...] = ()


class Policy(Protocol):
    name: str

    def reset(self, setup: ReplaySetup) -> None: ...

    def decide(self, obs: Observation) -> Decision: ...
