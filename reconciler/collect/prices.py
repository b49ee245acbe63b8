"""Spot and on-demand prices into the history, and the capacity the collector observed.

DescribeSpotPriceHistory is read page by page for the fleet's region and types since the
last run. A page with an odd record (no price, a negative one, a bad zone) does not sink
the rest: the batch is re-read record by record and the bad ones are logged and dropped.

Capacity: AWS does not say how many spot nodes a pool could hold. A pool that is offered
a price is recorded as able to hold the fleet's maximum (``capacity_observations``,
source ``observed:price``); the risk marks and the model carry the rest. These rows are
also how the guards know how fresh the market data is.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa

from analytics.errors import IngestError
from analytics.ingest.common import insert_new, transaction
from analytics.ingest.prices import ingest_spot_price_pages, spot_price_table
from reconciler.core.aws import aws_call
from reconciler.core.history.ledger import Ledger, naive
from reconciler.core.settings import FleetTarget

__all__ = ["collect_prices", "record_on_demand"]

log = logging.getLogger(__name__)


def _clean(pages: list[Mapping[str, Any]], source: str) -> list[Mapping[str, Any]]:
    good: list[Any] = []
    for page in pages:
        for record in page.get("SpotPriceHistory") or []:
            try:
                spot_price_table([{"SpotPriceHistory": [record]}], source=source)
            except IngestError as exc:
                log.warning("dropping a spot price record: %s", exc)
                continue
            good.append(record)
    return [{"SpotPriceHistory": good}]


def collect_prices(
    ledger: Ledger,
    ec2: Any,
    fleet: FleetTarget,
    *,
    now: datetime,
    grid_s: int,
    capacity_from_prices: bool = True,
) -> int:
    """Read new spot prices of the fleet's types; returns how many rows were new."""
    source = f"aws:{fleet.region}"
    with ledger.con() as con:
        row = con.execute(
            "SELECT max(ts) FROM spot_prices WHERE region = ? AND list_contains(?, instance_type)",
            [fleet.region, list(fleet.instance_types)],
        ).fetchall()
    since = row[0][0] or naive(now - timedelta(days=1))
    with aws_call("ec2:DescribeSpotPriceHistory"):
        # The ingest keeps 'Linux/UNIX (Amazon VPC)' as 'Linux/UNIX' (normalise_product).
        pages = list(
            ec2.get_paginator("describe_spot_price_history").paginate(
                InstanceTypes=list(fleet.instance_types),
                ProductDescriptions=["Linux/UNIX"],
                StartTime=since,
                EndTime=now,
            )
        )
    with ledger.con():
        try:
            result = ingest_spot_price_pages(ledger.history, pages, source=source)
        except IngestError as exc:
            log.warning("odd spot price page (%s); keeping the good records", exc)
            result = ingest_spot_price_pages(ledger.history, _clean(pages, source), source=source)
        if not capacity_from_prices:
            return int(result.inserted.get("spot_prices", 0))
        offered = ledger.rows(
            "SELECT DISTINCT pool FROM spot_prices WHERE list_contains(?, pool)",
            [list(fleet.pools())],
        )
        _observe_capacity(ledger, [str(r[0]) for r in offered], fleet, now=now, grid_s=grid_s)
    return int(result.inserted.get("spot_prices", 0))


def _observe_capacity(
    ledger: Ledger, pools: list[str], fleet: FleetTarget, *, now: datetime, grid_s: int
) -> None:
    if not pools:
        return
    with ledger.con() as con, transaction(con):
        con.executemany(
            "INSERT INTO capacity_observations VALUES (?, ?, ?, ?, 'observed:price')",
            [(pool, naive(now), fleet.max_nodes, grid_s) for pool in pools],
        )


def record_on_demand(ledger: Ledger, fleet: FleetTarget) -> int:
    """The on-demand prices the settings give (the Pricing API is not read yet)."""
    if not fleet.on_demand_prices:
        return 0
    table = pa.table(
        {
            "region": [fleet.region] * len(fleet.on_demand_prices),
            "instance_type": list(fleet.on_demand_prices),
            "operating_system": ["Linux"] * len(fleet.on_demand_prices),
            "effective_at": pa.array([datetime(2000, 1, 1)] * len(fleet.on_demand_prices)),
            "price": list(fleet.on_demand_prices.values()),
            "source": ["settings"] * len(fleet.on_demand_prices),
        }
    )
    with ledger.con() as con, transaction(con):
        return insert_new(
            con,
            "on_demand_prices",
            table,
            ("region", "instance_type", "operating_system", "effective_at"),
        )
