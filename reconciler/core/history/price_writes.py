"""The price collector's reads and writes: where its last run stopped, the pools offered a
price, the capacity it infers from them, the on-demand prices the settings give.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import pyarrow as pa

from analytics.ingest.common import insert_new, transaction
from reconciler.core.history.ledger import Ledger, naive

__all__ = [
    "latest_spot_price_at",
    "pools_offered_a_price",
    "record_capacity_observed",
    "record_settings_on_demand",
]


def latest_spot_price_at(
    ledger: Ledger, region: str, instance_types: Sequence[str]
) -> datetime | None:
    """The time of the newest spot price held for the region's types (naive UTC)."""
    rows = ledger._rows(
        "SELECT max(ts) FROM spot_prices WHERE region = ? AND list_contains(?, instance_type)",
        [region, list(instance_types)],
    )
    value = rows[0][0]
    return value if isinstance(value, datetime) else None


def pools_offered_a_price(ledger: Ledger, pools: Sequence[str]) -> list[str]:
    """Those of ``pools`` the history holds a spot price for."""
    rows = ledger._rows(
        "SELECT DISTINCT pool FROM spot_prices WHERE list_contains(?, pool)", [list(pools)]
    )
    return [str(r[0]) for r in rows]


def record_capacity_observed(
    ledger: Ledger, pools: Sequence[str], *, now: datetime, capacity: int, grid_s: int
) -> None:
    """Each pool able to hold ``capacity`` at ``now`` (source ``observed:price``)."""
    if not pools:
        return
    with ledger._con() as con, transaction(con):
        con.executemany(
            "INSERT INTO capacity_observations VALUES (?, ?, ?, ?, 'observed:price')",
            [(pool, naive(now), capacity, grid_s) for pool in pools],
        )


def record_settings_on_demand(ledger: Ledger, region: str, prices: Mapping[str, float]) -> int:
    """The on-demand $/h by instance type the fleet's settings give (the shipped list, or the
    operator's own), in force since 2000 (source ``shipped``: any price the Pricing API gave
    is newer); returns how many rows were new."""
    if not prices:
        return 0
    table = pa.table(
        {
            "region": [region] * len(prices),
            "instance_type": list(prices),
            "operating_system": ["Linux"] * len(prices),
            "effective_at": pa.array([datetime(2000, 1, 1)] * len(prices)),
            "price": list(prices.values()),
            "source": ["shipped"] * len(prices),
        }
    )
    with ledger._con() as con, transaction(con):
        return insert_new(
            con,
            "on_demand_prices",
            table,
            ("region", "instance_type", "operating_system", "effective_at"),
        )
