"""The pools of the history and their prices on a tick grid: what both the market series
(``market_series.read_market``) and the fleet signals (``fleet_signals.read_signals``) read.

Prices are what AWS gives a running fleet: spot prices (each holds from its timestamp on; the
last one before the grid holds at tick 0), on-demand list prices, Spot Advisor bands.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb
import numpy as np
import numpy.typing as npt

from reconciler.core.errors import HistoryReadError
from reconciler.core.market import PoolInfo

__all__ = ["GridPrices", "chosen_pools", "forward_fill", "prices_on_grid"]

_LINUX_PRODUCT = "Linux/UNIX"


@dataclass(frozen=True)
class GridPrices:
    spot: npt.NDArray[np.float64]  # (pools, ticks) $/h, forward-filled
    first_priced: npt.NDArray[np.int64]  # (pools,) first tick with a price (n: none)
    on_demand: npt.NDArray[np.float64]  # (pools,) $/h
    advisor: npt.NDArray[np.float64]  # (pools,) band 0..4, NaN where unknown


def forward_fill(values: np.ndarray, seen: np.ndarray, fill: float) -> np.ndarray:
    """Carry each row's last seen value forward; ``fill`` before the first."""
    idx = np.where(seen, np.arange(values.shape[1]), -1)
    np.maximum.accumulate(idx, axis=1, out=idx)
    out = np.take_along_axis(values, np.maximum(idx, 0), axis=1)
    out[idx < 0] = fill
    return out


def chosen_pools(
    con: duckdb.DuckDBPyConnection,
    *,
    accelerator: str | None = None,
    instance_type: str | None = None,
    pools: Sequence[str] | None = None,
) -> tuple[list[str], tuple[PoolInfo, ...]]:
    """The history's pools matching the filters, by name (sorted); none is an error."""
    where: list[str] = ["TRUE"]
    params: list[object] = []
    if accelerator is not None:
        where.append("accelerator = ?")
        params.append(accelerator)
    if instance_type is not None:
        where.append("instance_type = ?")
        params.append(instance_type)
    if pools is not None:
        where.append("list_contains(?, pool)")
        params.append(list(pools))
    rows = con.execute(
        "SELECT pool, region, zone, instance_type FROM pools "
        f"WHERE {' AND '.join(where)} ORDER BY pool",
        params,
    ).fetchall()
    if not rows:
        raise HistoryReadError(
            "no pool in the history matches "
            f"accelerator={accelerator!r} instance_type={instance_type!r} pools={pools!r}; "
            "ingest traces or collect prices first"
        )
    infos = tuple(PoolInfo(region, zone, itype) for _, region, zone, itype in rows)
    return [str(r[0]) for r in rows], infos


def prices_on_grid(
    con: duckdb.DuckDBPyConnection,
    names: list[str],
    infos: tuple[PoolInfo, ...],
    *,
    t0: float,
    gap: int,
    n: int,
    since: datetime,
    until: datetime,
    default_spot: float | None,
    default_od: float | None,
    operating_system: str,
) -> GridPrices:
    """Spot prices of ``names`` on the grid, their on-demand prices and advisor bands."""
    index = {name: i for i, name in enumerate(names)}
    spot = np.full((len(names), n), np.nan)
    spot_seen = np.zeros((len(names), n), dtype=bool)
    # The window's prices and each pool's last one before it (it still holds at tick 0), joined
    # on the stored key columns: filtering on the computed pool name would build it per row.
    prices = con.execute(
        """
        WITH chosen AS (SELECT region, zone, instance_type FROM pools WHERE list_contains(?, pool)),
        candidate AS (
            SELECT s.region, s.zone, s.instance_type, s.ts, s.price FROM spot_prices s
            SEMI JOIN chosen c USING (region, zone, instance_type)
            WHERE s.product = ? AND s.ts <= ?
        ),
        before AS (
            SELECT region, zone, instance_type, max(ts) AS ts, arg_max(price, ts) AS price
            FROM candidate WHERE ts <= ? GROUP BY ALL
        )
        SELECT region || '/' || zone || '/' || instance_type AS pool, epoch(ts) AS s, price
        FROM (SELECT * FROM candidate WHERE ts > ? UNION ALL SELECT * FROM before)
        ORDER BY s
        """,
        [names, _LINUX_PRODUCT, until, since, since],
    ).fetchnumpy()
    if len(prices["s"]):
        p_idx = np.array([index[p] for p in prices["pool"]], dtype=np.int64)
        # A price holds from its timestamp on; one older than the grid applies from tick 0.
        p_tick = np.clip(np.ceil((prices["s"].astype(np.float64) - t0) / gap), 0, n - 1).astype(
            np.int64
        )
        spot[p_idx, p_tick] = prices["price"]
        spot_seen[p_idx, p_tick] = True
    first_priced = np.where(spot_seen.any(axis=1), spot_seen.argmax(axis=1), n).astype(np.int64)
    fallback = np.nan if default_spot is None else default_spot
    spot = forward_fill(spot, spot_seen, fallback)

    on_demand = np.full(len(names), np.nan if default_od is None else default_od)
    od_rows = con.execute(
        """
        SELECT region, instance_type, arg_max(price, effective_at) FROM on_demand_prices
        WHERE operating_system = ? AND effective_at <= ? GROUP BY ALL
        """,
        [operating_system, until],
    ).fetchall()
    od = {(r, it): float(p) for r, it, p in od_rows}
    bands_rows = con.execute(
        "SELECT region, instance_type, band FROM advisor_bands WHERE operating_system = ?",
        [operating_system],
    ).fetchall()
    bands = {(r, it): float(b) for r, it, b in bands_rows}
    for i, p in enumerate(infos):
        on_demand[i] = od.get((p.region, p.instance_type), on_demand[i])
    advisor = np.array([bands.get((p.region, p.instance_type), np.nan) for p in infos])
    if np.isnan(on_demand).any():
        missing = [p.name for p, v in zip(infos, on_demand, strict=True) if np.isnan(v)]
        raise HistoryReadError(
            f"no on-demand price for {missing}; collect on-demand prices or pass a default"
        )
    return GridPrices(spot, first_priced, on_demand, advisor)
