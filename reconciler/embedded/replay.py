"""The embedded default's market, from the public data, and its record in the history.

One trace collection becomes the market (``market.build_market`` says how zones become g5
pools and how they are priced). Its first days are written to the history before the daemon
starts, so the model is trained on them; from then on the market is played tick by tick, and
each tick's capacity is recorded as it is played: the replay measures capacity the way the
collection did (by trying to launch), which AWS's API does not say.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from analytics.demo import SHIPPED_ON_DEMAND
from analytics.errors import IngestError
from analytics.ingest.advisor import ingest_advisor
from analytics.ingest.prices import (
    ingest_on_demand_prices,
    ingest_price_snapshot,
    ingest_spot_price_pages,
)
from analytics.ingest.traces import (
    Trace,
    collection_start,
    ingest_capacity,
    read_trace,
    trace_files,
)
from analytics.store import History
from reconciler.core.history.price_reads import linux_spot_prices_from
from reconciler.embedded.market import DEMO_TYPES, MarketPool, ZonePrice, build_market

__all__ = [
    "DEFAULT_COLLECTION",
    "SNAPSHOT",
    "ReplayedMarket",
    "load_market",
    "record_prices",
    "record_ticks",
]

DEFAULT_COLLECTION = "availability/1-node/aws-02-15-2023"
SNAPSHOT = "spot-prices-2022-05-31.tsv.zst"
ACCELERATOR = "a10g"  # every g5 type carries NVIDIA A10G GPUs
MARKET_SOURCE = "embedded market"


@dataclass(frozen=True)
class ReplayedMarket:
    pools: tuple[MarketPool, ...]
    begin: datetime  # tick 0 (UTC, aware)
    gap_s: int
    collection: str
    capacity_per_unit: int  # nodes a trace's 1 stands for

    @property
    def ticks(self) -> int:
        return min(len(p.capacity) for p in self.pools)

    def at(self, tick: int) -> datetime:
        return self.begin + timedelta(seconds=tick * self.gap_s)

    def in_region(self, region: str) -> list[MarketPool]:
        return [p for p in self.pools if p.pool.region == region]


def load_market(
    history: History,
    data: Path,
    *,
    collection: str = DEFAULT_COLLECTION,
    types: Sequence[str] = DEMO_TYPES,
    capacity_per_unit: int = 1,
) -> ReplayedMarket:
    """Read the collection's traces and the public prices (which go into the history: the
    snapshot, the Spot Advisor, on-demand list prices) and build the market from them."""
    folder = data / "spot-traces" / collection
    traces = [read_trace(path) for path in trace_files(folder)]
    gaps = {t.gap_seconds for t in traces}
    if len(gaps) != 1:
        raise IngestError(str(folder), "metadata.gap_seconds", f"differs between files: {gaps}")
    zones = [t.pool.zone for t in traces]
    if len(set(zones)) != len(zones):
        raise IngestError(
            str(folder), "", "holds two traces of one zone; the demo's market wants one per zone"
        )
    if capacity_per_unit < 1:
        raise ValueError("capacity per trace unit must be at least 1")

    snapshot = data / SNAPSHOT
    ingest_price_snapshot(history, snapshot)
    ingest_advisor(history, data / "spot-advisor-data.json")
    ingest_on_demand_prices(history, SHIPPED_ON_DEMAND)
    prices = [
        ZonePrice(q.region, q.zone, q.instance_type, q.price)
        for q in linux_spot_prices_from(history, str(snapshot), types)
    ]
    on_demand = {
        row["instance_type"]: float(row["price"])
        for row in json.loads(SHIPPED_ON_DEMAND.read_text())
        if row["region"] == "us-east-1"
    }
    pools = build_market(
        {t.pool.zone: t.capacity * capacity_per_unit for t in traces}, prices, on_demand, types
    )
    return ReplayedMarket(
        pools=tuple(pools),
        begin=collection_start(folder).replace(tzinfo=UTC),
        gap_s=gaps.pop(),
        collection=collection,
        capacity_per_unit=capacity_per_unit,
    )


def record_ticks(history: History, market: ReplayedMarket, first: int, last: int) -> None:
    """Every pool's capacity at ticks ``first .. last`` into the history (again is a no-op)."""
    traces = [
        Trace(m.pool, ACCELERATOR, market.gap_s, np.asarray(m.capacity[first : last + 1]))
        for m in market.pools
    ]
    ingest_capacity(
        history,
        traces,
        begin=market.begin.replace(tzinfo=None),
        source=f"{MARKET_SOURCE}:{market.collection}",
        first_tick=first,
    )


def record_prices(history: History, market: ReplayedMarket) -> None:
    """The market's spot prices, in force from tick 0 (they do not move during the replay)."""
    record = [
        {
            "AvailabilityZone": m.pool.zone,
            "InstanceType": m.pool.instance_type,
            "ProductDescription": "Linux/UNIX",
            "SpotPrice": f"{m.spot_price:.6f}",
            "Timestamp": market.begin,
        }
        for m in market.pools
    ]
    ingest_spot_price_pages(history, [{"SpotPriceHistory": record}], source=MARKET_SOURCE)
