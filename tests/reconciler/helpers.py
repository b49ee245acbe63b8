"""Hand-made markets and scripted policies for replay tests."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from reconciler.core.market import MarketSeries, PoolInfo
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
