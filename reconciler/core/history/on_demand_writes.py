"""The on-demand collector's writes of ``on_demand_prices``: prices the Pricing API gave,
each kept with the date AWS says it took effect and its source (``pricing_api``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa

from analytics.ingest.common import insert_new, transaction
from reconciler.core.history.ledger import Ledger, naive

__all__ = ["OnDemandPrice", "record_on_demand_prices"]


@dataclass(frozen=True, slots=True)
class OnDemandPrice:
    """One instance type's on-demand $/h in a region, from one source."""

    region: str
    instance_type: str
    price: float  # $/h
    effective_at: datetime
    source: str  # 'pricing_api' or 'shipped'
    operating_system: str = "Linux"


def record_on_demand_prices(ledger: Ledger, prices: Sequence[OnDemandPrice]) -> int:
    """Keep the prices (one already held for its region, type, OS and date is left as it
    was); returns how many were new."""
    if not prices:
        return 0
    table = pa.table(
        {
            "region": [p.region for p in prices],
            "instance_type": [p.instance_type for p in prices],
            "operating_system": [p.operating_system for p in prices],
            "effective_at": pa.array([naive(p.effective_at) for p in prices], pa.timestamp("us")),
            "price": pa.array([p.price for p in prices], pa.float64()),
            "source": [p.source for p in prices],
        }
    )
    with ledger._con() as con, transaction(con):
        return insert_new(
            con,
            "on_demand_prices",
            table,
            ("region", "instance_type", "operating_system", "effective_at"),
        )
