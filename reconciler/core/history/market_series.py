"""The live path: the DuckDB history → market series on a regular tick grid.

This is the only reconciler module of the decide step that talks to DuckDB; it hands
``reconciler.decide.pipeline`` the same arrays a backtest builds from trace files, so the
features of both paths agree (tested on the same data).

Grid: ticks ``interval_s`` apart, tick 0 at the first observation of the pools read
(within ``lookback_s`` of ``until``), the last tick at or before ``until``. A tick with no
observation of a pool carries that pool's last observation forward (0 before its first).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime

import duckdb
import numpy as np

from analytics.kinds import WARNING_KINDS
from reconciler.core.errors import HistoryReadError
from reconciler.core.market import MarketSeries, PoolInfo

__all__ = ["read_market", "recent_losses"]

_LINUX_PRODUCT = "Linux/UNIX"


def _epoch(ts: datetime) -> float:
    return (ts if ts.tzinfo else ts.replace(tzinfo=UTC)).timestamp()


def _naive_utc(ts: datetime) -> datetime:
    return ts.astimezone(UTC).replace(tzinfo=None) if ts.tzinfo else ts


def _forward_fill(values: np.ndarray, seen: np.ndarray, fill: float) -> np.ndarray:
    """Carry each row's last seen value forward; ``fill`` before the first."""
    idx = np.where(seen, np.arange(values.shape[1]), -1)
    np.maximum.accumulate(idx, axis=1, out=idx)
    out = np.take_along_axis(values, np.maximum(idx, 0), axis=1)
    out[idx < 0] = fill
    return out


def read_market(
    con: duckdb.DuckDBPyConnection,
    *,
    until: datetime,
    lookback_s: float,
    accelerator: str | None = None,
    instance_type: str | None = None,
    pools: Sequence[str] | None = None,
    interval_s: int | None = None,
    default_spot_price: float | None = None,
    default_on_demand_price: float | None = None,
    operating_system: str = "Linux",
) -> MarketSeries:
    """Read capacity, prices and advisor bands of the chosen pools into market series."""
    try:
        return _read(
            con,
            until=_naive_utc(until),
            lookback_s=lookback_s,
            accelerator=accelerator,
            instance_type=instance_type,
            pools=pools,
            interval_s=interval_s,
            default_spot=default_spot_price,
            default_od=default_on_demand_price,
            operating_system=operating_system,
        )
    except duckdb.Error as exc:
        raise HistoryReadError(
            f"could not read market series from the history ({exc}); is it a spotfleet history "
            "at the current schema? (any analytics command that writes upgrades it)"
        ) from exc


def _read(
    con: duckdb.DuckDBPyConnection,
    *,
    until: datetime,
    lookback_s: float,
    accelerator: str | None,
    instance_type: str | None,
    pools: Sequence[str] | None,
    interval_s: int | None,
    default_spot: float | None,
    default_od: float | None,
    operating_system: str,
) -> MarketSeries:
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
            "ingest traces or collect capacity first"
        )
    infos = tuple(PoolInfo(region, zone, itype) for _, region, zone, itype in rows)
    names = [r[0] for r in rows]
    since = datetime.fromtimestamp(_epoch(until) - lookback_s, tz=UTC).replace(tzinfo=None)

    obs = con.execute(
        """
        SELECT pool, epoch(ts) AS s, capacity, interval_s FROM capacity_observations
        WHERE list_contains(?, pool) AND ts > ? AND ts <= ?
        ORDER BY ts
        """,
        [names, since, until],
    ).fetchnumpy()
    if len(obs["s"]) == 0:
        raise HistoryReadError(
            f"no capacity observation of {len(names)} pool(s) between {since} and {until}; "
            "the collector has not run, or --until is outside the history"
        )
    gap = int(interval_s or np.bincount(obs["interval_s"].astype(np.int64)).argmax())
    t0 = float(obs["s"].min())
    n = math.floor((_epoch(until) - t0) / gap) + 1
    index = {name: i for i, name in enumerate(names)}
    pool_idx = np.array([index[p] for p in obs["pool"]], dtype=np.int64)
    tick = np.rint((obs["s"].astype(np.float64) - t0) / gap).astype(np.int64)
    keep = (tick >= 0) & (tick < n)
    cap = np.zeros((len(names), n), dtype=np.int32)
    seen = np.zeros((len(names), n), dtype=bool)
    cap[pool_idx[keep], tick[keep]] = obs["capacity"][keep]
    seen[pool_idx[keep], tick[keep]] = True
    observed_from = np.where(seen.any(axis=1), seen.argmax(axis=1), n).astype(np.int64)
    capacity = _forward_fill(cap, seen, 0).astype(np.int32)

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
    fallback = np.nan if default_spot is None else default_spot
    spot = _forward_fill(spot, spot_seen, fallback)

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
    return MarketSeries(
        pools=infos,
        gap_seconds=gap,
        t0=t0,
        capacity=capacity,
        spot_price=spot,
        on_demand_price=on_demand,
        advisor_band=advisor,
        observed_from=observed_from,
        warnings=_warnings(con, names, t0=t0, gap=gap, n=n, until=until),
    )


def _warnings(
    con: duckdb.DuckDBPyConnection,
    names: list[str],
    *,
    t0: float,
    gap: int,
    n: int,
    until: datetime,
) -> np.ndarray:
    """(pools, ticks) warnings of the fleet's nodes, each at the first tick at or after it:
    a warning between two ticks is known from the later one."""
    rows = con.execute(
        """
        SELECT pool, epoch(ts) AS s FROM interruption_events
        WHERE list_contains(?, pool) AND list_contains(?, kind) AND epoch(ts) > ? AND ts <= ?
        """,
        [names, [str(k) for k in WARNING_KINDS], t0 - gap, until],
    ).fetchnumpy()
    out = np.zeros((len(names), n), dtype=np.int32)
    if len(rows["s"]) == 0:
        return out
    index = {name: i for i, name in enumerate(names)}
    pool_idx = np.array([index[p] for p in rows["pool"]], dtype=np.int64)
    tick = np.ceil((rows["s"].astype(np.float64) - t0) / gap).astype(np.int64)
    keep = (tick >= 0) & (tick < n)
    np.add.at(out, (pool_idx[keep], tick[keep]), 1)
    return out


def recent_losses(
    con: duckdb.DuckDBPyConnection, *, pools: Sequence[str], until: datetime, window_s: float
) -> tuple[float, ...]:
    """Times (epoch s) of interruptions of the given pools within ``window_s`` before ``until``."""
    end = _naive_utc(until)
    since = datetime.fromtimestamp(_epoch(end) - window_s, tz=UTC).replace(tzinfo=None)
    try:
        rows = con.execute(
            """
            SELECT epoch(ts) FROM interruption_events
            WHERE list_contains(?, pool) AND ts > ? AND ts <= ?
              AND kind IN ('spot_interruption_warning', 'capacity_loss')
            ORDER BY ts
            """,
            [list(pools), since, end],
        ).fetchall()
    except duckdb.Error as exc:
        raise HistoryReadError(f"could not read interruption events ({exc})") from exc
    return tuple(float(r[0]) for r in rows)
