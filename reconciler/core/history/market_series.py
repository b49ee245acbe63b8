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
from reconciler.core.history.market_prices import chosen_pools, forward_fill, prices_on_grid
from reconciler.core.market import MarketSeries

__all__ = ["read_market", "recent_losses"]


def _epoch(ts: datetime) -> float:
    return (ts if ts.tzinfo else ts.replace(tzinfo=UTC)).timestamp()


def _naive_utc(ts: datetime) -> datetime:
    return ts.astimezone(UTC).replace(tzinfo=None) if ts.tzinfo else ts


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
    names, infos = chosen_pools(
        con, accelerator=accelerator, instance_type=instance_type, pools=pools
    )
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
    capacity = forward_fill(cap, seen, 0).astype(np.int32)

    priced = prices_on_grid(
        con,
        names,
        infos,
        t0=t0,
        gap=gap,
        n=n,
        since=since,
        until=until,
        default_spot=default_spot,
        default_od=default_od,
        operating_system=operating_system,
    )
    return MarketSeries(
        pools=infos,
        gap_seconds=gap,
        t0=t0,
        capacity=capacity,
        spot_price=priced.spot,
        on_demand_price=priced.on_demand,
        advisor_band=priced.advisor,
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
