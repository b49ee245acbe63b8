"""The embedded default's market, from the public data, and its record in the history.

One trace collection becomes the market (``market.build_market`` says how zones become g5
pools and how they are priced). The history gets only what AWS would give a daemon: prices,
and for the first days (before the daemon starts) the placement scores a daemon collecting
then would have recorded (``record_seed_scores``: the trace's free room through the one score
mapping, every tick); the prior is fitted on those days of the public traces themselves
(``seed_series``), outside the history. From then on the market is played tick by tick and
the daemon's own collectors record what the local EC2 and groups answer (placement scores,
refused launches, preemption warnings). No capacity number is written: AWS does not say one.
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
from analytics.ingest.traces import collection_start, read_trace, trace_files
from analytics.store import History
from reconciler.core.history.ledger import Ledger
from reconciler.core.history.placement_scores import ScoreRow, record_scores
from reconciler.core.history.price_reads import linux_spot_prices_from
from reconciler.core.market import MarketSeries, PoolInfo
from reconciler.core.placement_score import score_for
from reconciler.embedded.market import DEMO_TYPES, MarketPool, ZonePrice, build_market
from reconciler.embedded.placement_scores import local_zone_id

__all__ = [
    "DEFAULT_COLLECTION",
    "SNAPSHOT",
    "ReplayedMarket",
    "load_market",
    "record_prices",
    "record_seed_scores",
    "seed_series",
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


def record_seed_scores(
    ledger: Ledger, market: ReplayedMarket, first: int, last: int, *, target: int
) -> int:
    """The placement scores of ticks ``first .. last`` a daemon asking for ``target`` nodes
    would have collected (nothing of the fleet held yet: the free room is the trace's)."""
    rows = [
        ScoreRow(
            m.pool.region, m.pool.zone, local_zone_id(m.pool.zone), m.pool.instance_type,
            target, score_for(int(m.capacity[t]), target), market.at(t), MARKET_SOURCE,
        )
        for m in market.pools
        for t in range(first, min(last, len(m.capacity) - 1) + 1)
    ]  # fmt: skip
    return record_scores(ledger, rows)


def seed_series(market: ReplayedMarket, end: int) -> MarketSeries:
    """Ticks ``0 .. end - 1`` of the public traces as market series: the prior's input."""
    capacity = np.stack([m.capacity[:end] for m in market.pools]).astype(np.int32)
    spot = np.array([m.spot_price for m in market.pools], dtype=np.float64)
    return MarketSeries(
        pools=tuple(
            PoolInfo(m.pool.region, m.pool.zone, m.pool.instance_type) for m in market.pools
        ),
        gap_seconds=market.gap_s,
        t0=market.begin.timestamp(),
        capacity=capacity,
        spot_price=np.broadcast_to(spot[:, None], capacity.shape).astype(np.float64),
        on_demand_price=np.array([m.on_demand_price for m in market.pools], dtype=np.float64),
        advisor_band=np.full(len(market.pools), np.nan),
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
