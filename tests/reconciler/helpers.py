"""Hand-made markets and scripted policies for replay tests."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from reconciler.core.market import MarketSeries, PoolInfo
from reconciler.core.signals import FleetSignals
from reconciler.replay.types import Decision, Observation, ReplaySetup


def market(
    rows: Sequence[Sequence[int]],
    *,
    gap: int = 100,
    spot: float = 0.9,
    on_demand: float = 3.6,
    zones: Sequence[str] | None = None,
    t0: float = 0.0,
) -> MarketSeries:
    cap = np.array(rows, dtype=np.int32)
    zones = (
        list(zones)
        if zones is not None
        else [f"us-east-1{chr(ord('a') + i)}" for i in range(len(rows))]
    )
    pools = tuple(PoolInfo(z[:-1], z, "p3.2xlarge") for z in zones)
    return MarketSeries(
        pools=pools,
        gap_seconds=gap,
        t0=t0,
        capacity=cap,
        spot_price=np.full(cap.shape, spot),
        on_demand_price=np.full(len(rows), on_demand),
        advisor_band=np.full(len(rows), np.nan),
    )


class Scripted:
    """Returns a fixed decision per tick; records every observation."""

    name = "scripted"

    def __init__(self, script: dict[int, Decision] | Callable[[Observation], Decision]) -> None:
        self.script = script
        self.seen: list[Observation] = []
        self.setup: ReplaySetup | None = None

    def reset(self, setup: ReplaySetup) -> None:
        self.setup = setup

    def decide(self, obs: Observation) -> Decision:
        self.seen.append(obs)
        if callable(self.script):
            return self.script(obs)
        return self.script.get(obs.tick, Decision())


def write_traces(folder: Path, traces: dict[str, Sequence[int]], gap: int = 100) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for stem, data in traces.items():
        (folder / f"{stem}.json").write_text(
            json.dumps({"metadata": {"gap_seconds": gap}, "data": list(data)})
        )
    return folder


def shared_data() -> Path:
    """The project's shared data folder: ../shared/data beside the checkout, else /work/shared/data."""
    for candidate in (
        Path(__file__).resolve().parents[3] / "shared" / "data",
        Path("/work/shared/data"),
    ):
        if (candidate / "replay-prices.json").exists():
            return candidate
    return Path("/work/shared/data")


def fleet_signals(
    *,
    held: np.ndarray,
    warned: np.ndarray,
    score: np.ndarray,
    zones: str = "abc",
    gap: int = 600,
    spot: float = 0.3,
    score_target: int = 4,
) -> FleetSignals:
    """A hand-made fleet history of g5.xlarge pools in us-east-1 (one per zone letter): the
    nodes held, warned (each warning also an interruption) and the placement scores, (pools,
    ticks) each; no launch tried."""
    shape = held.shape
    zeros = np.zeros(shape, np.int32)
    return FleetSignals(
        pools=tuple(PoolInfo("us-east-1", f"us-east-1{z}", "g5.xlarge") for z in zones),
        gap_seconds=gap,
        t0=0.0,
        spot_price=np.full(shape, spot),
        on_demand_price=np.ones(shape[0]),
        advisor_band=np.full(shape[0], np.nan),
        placement_score=score.astype(np.float64),
        score_target=score_target,
        held=held.astype(np.int32),
        warned=warned.astype(np.int32),
        interrupted=warned.astype(np.int32),
        launches_tried=zeros,
        launches_refused=zeros,
    )


def losing_every_30_ticks(pools: int = 3, n: int = 2000, own_from: int = 1700) -> FleetSignals:
    """Weeks of scores before the fleet's first node (``own_from``), then one node held in each
    pool, lost every 30 ticks: a history an own model fits on."""
    held = np.zeros((pools, n), dtype=np.int32)
    held[:, own_from:] = 1
    warned = np.zeros((pools, n), dtype=np.int32)
    warned[:, own_from + 20 :: 30] = 1
    score = np.where(np.arange(n) % 2 == 0, 6.0, np.nan)[None, :].repeat(pools, 0)
    return fleet_signals(held=held, warned=warned, score=score, zones="abc"[:pools])
