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

from analytics.errors import IngestError
from analytics.ingest.prices import ingest_spot_price_pages, spot_price_table
from reconciler.core.aws import aws_call
from reconciler.core.history.ledger import Ledger, naive
from reconciler.core.history.price_writes import (
    latest_spot_price_at,
    pools_offered_a_price,
    record_capacity_observed,
    record_settings_on_demand,
)
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
    since = latest_spot_price_at(ledger, fleet.region, fleet.instance_types) or naive(
        now - timedelta(days=1)
    )
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
    with ledger.writing() as history:
        try:
            result = ingest_spot_price_pages(history, pages, source=source)
        except IngestError as exc:
            log.warning("odd spot price page (%s); keeping the good records", exc)
            result = ingest_spot_price_pages(history, _clean(pages, source), source=source)
        if not capacity_from_prices:
            return int(result.inserted.get("spot_prices", 0))
        record_capacity_observed(
            ledger,
            pools_offered_a_price(ledger, list(fleet.pools())),
            now=now,
            capacity=fleet.max_nodes,
            grid_s=grid_s,
        )
    return int(result.inserted.get("spot_prices", 0))


def record_on_demand(ledger: Ledger, fleet: FleetTarget) -> int:
    """The on-demand prices the settings give (the Pricing API is not read yet)."""
    return record_settings_on_demand(ledger, fleet.region, fleet.on_demand_prices)
