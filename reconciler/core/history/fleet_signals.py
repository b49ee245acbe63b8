"""The DuckDB history → fleet signals, every fleet of the history pooled (one fleet's loss
informs all).

Only what AWS gives a running fleet is read; ``capacity_observations`` never is (on AWS it
holds the price collector's guess, and no capacity number may reach the planner).

Grid: ticks ``interval_s`` apart (when not given, the collectors' most common spacing in
the window, else ``DEFAULT_GRID_S``, the daemon's ``grid_s`` default), the last tick at
``until``, tick 0 at or before the pools' first signal within ``lookback_s`` of it (a
placement score, a spot price, a node launched, an interruption event). Nothing older than
``lookback_s`` is read: a score collected before it is not the one in force at tick 0.
Prices and advisor bands are ``market_prices``'. On that grid, per pool: the latest
placement score collected at or before each tick (``placement_scores``, at the highest
target capacity asked there), the spot nodes of any fleet held (``nodes``: launched at or
before the tick, not yet terminated), spot interruption warnings (``interruption_events`` of
``WARNING_KINDS``) and the state changes of warned nodes (their interruptions), each counted
at the first tick at or after it, and the launches tried (``fleet_actions`` ``launch``,
applied) and refused (``launch_failed``). A pool is observed from its first tick with a
score, a price or a node held.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime

import duckdb
import numpy as np
import numpy.typing as npt

from analytics.kinds import WARNING_KINDS, Kind
from reconciler.core.errors import HistoryReadError
from reconciler.core.history.market_prices import GridPrices, chosen_pools, prices_on_grid
from reconciler.core.market import PoolInfo
from reconciler.core.signals import FleetSignals

__all__ = ["DEFAULT_GRID_S", "read_signals"]

DEFAULT_GRID_S = 300


def _epoch(ts: datetime) -> float:
    return (ts if ts.tzinfo else ts.replace(tzinfo=UTC)).timestamp()


def _naive_utc(ts: datetime) -> datetime:
    return ts.astimezone(UTC).replace(tzinfo=None) if ts.tzinfo else ts


def _counts(
    rows: dict[str, npt.NDArray[np.generic]], index: dict[str, int], *, t0: float, gap: int, n: int
) -> npt.NDArray[np.int32]:
    out = np.zeros((len(index), n), dtype=np.int32)
    if len(rows["s"]) == 0:
        return out
    pool_idx = np.array([index[str(p)] for p in rows["pool"]], dtype=np.int64)
    tick = np.ceil((rows["s"].astype(np.float64) - t0) / gap).astype(np.int64)
    keep = (tick >= 0) & (tick < n)
    np.add.at(out, (pool_idx[keep], tick[keep]), 1)
    return out


def read_signals(
    con: duckdb.DuckDBPyConnection,
    *,
    until: datetime,
    lookback_s: float,
    pools: Sequence[str],
    interval_s: int | None = None,
    default_spot_price: float | None = None,
    default_on_demand_price: float | None = None,
) -> FleetSignals:
    """Read the production signals of ``pools`` over ``lookback_s`` before ``until``."""
    end = _naive_utc(until)
    since = datetime.fromtimestamp(_epoch(end) - lookback_s, tz=UTC).replace(tzinfo=None)
    try:
        names, infos = chosen_pools(con, pools=pools)
        first = _first_signal(con, names, since=since, until=end)
        gap = int(interval_s or _collector_cadence(con, names, since=since, until=end))
        # The last tick at ``until`` itself: a signal collected since the last whole grid step
        # is known now, not one tick later.
        n = math.ceil((_epoch(end) - first) / gap) + 1
        t0 = _epoch(end) - (n - 1) * gap
        priced = prices_on_grid(
            con,
            names,
            infos,
            t0=t0,
            gap=gap,
            n=n,
            since=since,
            until=end,
            default_spot=default_spot_price,
            default_od=default_on_demand_price,
            operating_system="Linux",
        )
        return _read(con, names=names, infos=infos, t0=t0, gap=gap, n=n, priced=priced, since=since)
    except duckdb.Error as exc:
        raise HistoryReadError(
            f"could not read fleet signals from the history ({exc}); is it a spotfleet history "
            "at the current schema? (any analytics command that writes upgrades it)"
        ) from exc


def _collector_cadence(
    con: duckdb.DuckDBPyConnection, names: list[str], *, since: datetime, until: datetime
) -> int:
    """The most common spacing (s) of the collectors' runs in the window (placement scores,
    the price collector's rows); ``DEFAULT_GRID_S`` when they ran fewer than twice."""
    rows = con.execute(
        """
        WITH runs AS (
            SELECT DISTINCT ts FROM placement_scores
            WHERE list_contains(?, region || '/' || zone || '/' || instance_type)
              AND ts > ? AND ts <= ?
            UNION SELECT DISTINCT ts FROM capacity_observations
            WHERE list_contains(?, pool) AND ts > ? AND ts <= ?
        ),
        gaps AS (SELECT round(epoch(ts) - epoch(lag(ts) OVER (ORDER BY ts))) AS g FROM runs)
        SELECT g FROM gaps WHERE g > 0 GROUP BY g ORDER BY count(*) DESC, g LIMIT 1
        """,
        [names, since, until] * 2,
    ).fetchall()
    return int(rows[0][0]) if rows else DEFAULT_GRID_S


def _first_signal(
    con: duckdb.DuckDBPyConnection, names: list[str], *, since: datetime, until: datetime
) -> float:
    """Epoch seconds of the pools' first signal in ``(since, until]``; none is an error."""
    row = con.execute(
        """
        SELECT min(s) FROM (
            SELECT epoch(min(ts)) AS s FROM placement_scores
            WHERE list_contains(?, region || '/' || zone || '/' || instance_type)
              AND ts > ? AND ts <= ?
            UNION ALL SELECT epoch(min(ts)) FROM spot_prices
            WHERE list_contains(?, region || '/' || zone || '/' || instance_type)
              AND ts > ? AND ts <= ?
            UNION ALL SELECT epoch(min(launched_at)) FROM nodes
            WHERE list_contains(?, pool) AND launched_at > ? AND launched_at <= ?
            UNION ALL SELECT epoch(min(ts)) FROM interruption_events
            WHERE list_contains(?, pool) AND ts > ? AND ts <= ?
        )
        """,
        [names, since, until] * 4,
    ).fetchall()
    if row[0][0] is None:
        raise HistoryReadError(
            f"no signal of {len(names)} pool(s) between {since} and {until} (no placement "
            "score, spot price, node or interruption event): the collectors have not run, or "
            "the time is outside the history"
        )
    return float(row[0][0])


def _read(
    con: duckdb.DuckDBPyConnection,
    *,
    names: list[str],
    infos: tuple[PoolInfo, ...],
    t0: float,
    gap: int,
    n: int,
    priced: GridPrices,
    since: datetime,
) -> FleetSignals:
    index = {name: i for i, name in enumerate(names)}
    end_s = t0 + (n - 1) * gap
    window = [t0 - gap, end_s]

    # Only the lookback's scores (a reconcile reads this every cycle: all of a long history
    # took seconds), each pool's row found by a join, not per row in Python.
    scores = con.execute(
        """
        WITH wanted AS (
            SELECT unnest(?) AS pool, generate_subscripts(?, 1) - 1 AS i
        )
        SELECT i, epoch(ts) AS s, score, target_capacity
        FROM placement_scores
        JOIN wanted ON wanted.pool = region || '/' || zone || '/' || instance_type
        WHERE zone IS NOT NULL AND ts > ? AND epoch(ts) <= ?
        QUALIFY target_capacity
            = max(target_capacity) OVER (PARTITION BY region, zone, instance_type)
        ORDER BY s
        """,
        [names, names, since, end_s],
    ).fetchnumpy()
    score = np.full((len(names), n), np.nan)
    target = 1
    if len(scores["s"]):
        target = int(scores["target_capacity"].max())
        idx = scores["i"].astype(np.int64)
        tick = np.clip(np.ceil((scores["s"].astype(np.float64) - t0) / gap), 0, n - 1)
        score[idx, tick.astype(np.int64)] = scores["score"].astype(np.float64)

    spans = con.execute(
        """
        SELECT pool, epoch(launched_at) AS a, coalesce(epoch(terminated_at), 1e18) AS b
        FROM nodes WHERE lifecycle = 'spot' AND list_contains(?, pool) AND launched_at IS NOT NULL
        """,
        [names],
    ).fetchnumpy()
    held = np.zeros((len(names), n), dtype=np.int32)
    tick_s = t0 + np.arange(n) * gap
    for pool, a, b in zip(spans["pool"], spans["a"], spans["b"], strict=True):
        held[index[str(pool)]] += ((tick_s >= a) & (tick_s < b)).astype(np.int32)

    warned = con.execute(
        "SELECT pool, epoch(ts) AS s FROM interruption_events "
        "WHERE list_contains(?, pool) AND list_contains(?, kind) "
        "AND epoch(ts) > ? AND epoch(ts) <= ?",
        [names, [str(k) for k in WARNING_KINDS], *window],
    ).fetchnumpy()
    # A warned node's state change is its interruption (one per node, the first).
    interrupted = con.execute(
        """
        SELECT pool, min(epoch(ts)) AS s FROM interruption_events
        WHERE list_contains(?, pool) AND kind = ? AND instance_id IN (
            SELECT instance_id FROM interruption_events WHERE list_contains(?, kind))
          AND epoch(ts) > ? AND epoch(ts) <= ?
        GROUP BY pool, instance_id
        """,
        [names, str(Kind.INSTANCE_STATE_CHANGE), [str(k) for k in WARNING_KINDS], *window],
    ).fetchnumpy()
    actions = {
        kind: con.execute(
            "SELECT target AS pool, epoch(ts) AS s FROM fleet_actions "
            "WHERE kind = ? AND list_contains(?, target) AND status = ? "
            "AND epoch(ts) > ? AND epoch(ts) <= ?",
            [kind, names, status, *window],
        ).fetchnumpy()
        for kind, status in (("launch", "applied"), ("launch_failed", "failed"))
    }
    scored = ~np.isnan(score)
    first_scored = np.where(scored.any(axis=1), scored.argmax(axis=1), n)
    holding = held > 0
    first_held = np.where(holding.any(axis=1), holding.argmax(axis=1), n)
    observed_from = np.minimum(np.minimum(first_scored, first_held), priced.first_priced)
    return FleetSignals(
        pools=infos,
        gap_seconds=gap,
        t0=t0,
        spot_price=np.asarray(priced.spot, np.float64),
        on_demand_price=priced.on_demand,
        advisor_band=priced.advisor,
        placement_score=score,
        score_target=target,
        held=held,
        warned=_counts(warned, index, t0=t0, gap=gap, n=n),
        interrupted=_counts(interrupted, index, t0=t0, gap=gap, n=n),
        launches_tried=_counts(actions["launch"], index, t0=t0, gap=gap, n=n),
        launches_refused=_counts(actions["launch_failed"], index, t0=t0, gap=gap, n=n),
        observed_from=observed_from.astype(np.int64),
    )
