"""The DuckDB history → fleet signals, every fleet of the history pooled (one fleet's loss
informs all).

The grid, the prices and the advisor bands are ``read_market``'s (its capacity is not used:
on AWS it is the collector's guess). On that grid, per pool: the latest placement score
collected at or before each tick (``placement_scores``, at the highest target capacity asked
there), the spot nodes of any fleet held (``nodes``: launched at or before the tick, not yet
terminated), spot interruption warnings (``interruption_events`` of ``WARNING_KINDS``) and
the state changes of warned nodes (their interruptions), each counted at the first tick at or
after it, and the launches tried (``fleet_actions`` ``launch``, applied) and refused
(``launch_failed``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import duckdb
import numpy as np
import numpy.typing as npt

from analytics.kinds import WARNING_KINDS, Kind
from reconciler.core.errors import HistoryReadError
from reconciler.core.history.market_series import read_market
from reconciler.core.market import MarketSeries
from reconciler.core.signals import FleetSignals

__all__ = ["read_signals"]


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
    market = read_market(
        con,
        until=until,
        lookback_s=lookback_s,
        pools=pools,
        interval_s=interval_s,
        default_spot_price=default_spot_price,
        default_on_demand_price=default_on_demand_price,
    )
    try:
        return _read(con, market=market)
    except duckdb.Error as exc:
        raise HistoryReadError(
            f"could not read fleet signals from the history ({exc}); is it a spotfleet history "
            "at the current schema? (any analytics command that writes upgrades it)"
        ) from exc


def _read(con: duckdb.DuckDBPyConnection, *, market: MarketSeries) -> FleetSignals:
    names = [p.name for p in market.pools]
    index = {name: i for i, name in enumerate(names)}
    t0, gap, n = market.t0, market.gap_seconds, market.n_ticks
    end_s = t0 + (n - 1) * gap
    window = [t0 - gap, end_s]

    scores = con.execute(
        """
        SELECT region || '/' || zone || '/' || instance_type AS pool, epoch(ts) AS s, score,
               target_capacity
        FROM placement_scores
        WHERE zone IS NOT NULL AND list_contains(?, region || '/' || zone || '/' || instance_type)
          AND epoch(ts) <= ?
        QUALIFY target_capacity
            = max(target_capacity) OVER (PARTITION BY region, zone, instance_type)
        ORDER BY s
        """,
        [names, end_s],
    ).fetchnumpy()
    score = np.full((len(names), n), np.nan)
    target = 1
    if len(scores["s"]):
        target = int(scores["target_capacity"].max())
        idx = np.array([index[str(p)] for p in scores["pool"]], dtype=np.int64)
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
    return FleetSignals(
        pools=market.pools,
        gap_seconds=gap,
        t0=t0,
        spot_price=np.asarray(np.broadcast_to(market.spot_price, (len(names), n)), np.float64),
        on_demand_price=market.on_demand_price,
        advisor_band=market.advisor_band,
        placement_score=score,
        score_target=target,
        held=held,
        warned=_counts(warned, index, t0=t0, gap=gap, n=n),
        interrupted=_counts(interrupted, index, t0=t0, gap=gap, n=n),
        launches_tried=_counts(actions["launch"], index, t0=t0, gap=gap, n=n),
        launches_refused=_counts(actions["launch_failed"], index, t0=t0, gap=gap, n=n),
        observed_from=market.observed_from,
    )
