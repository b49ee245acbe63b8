"""The report's maps of the pools over time: a row per pool, a cell per hour, coloured by how
able the pool was to take spot nodes.

Two readings of the history, each drawn where it has rows:

- **capacity** (``capacity_observations`` from the public capacity traces): the fraction of
  each hour the pool had capacity. The price collector's ``observed:price`` rows are left
  out: they only say "the fleet's maximum" wherever a price is offered, so every cell would
  read 1.
- **placement score** (``placement_scores``, what AWS gives a running fleet): the pool's mean
  score in the hour, 1-10; where several requests were scored in a pool, the one for the
  most nodes counts (as the decision reads it); a score whose zone is not named is left out.

A daemon's history holds scores and no capacity; an analyst's ingest of the traces holds
capacity and no scores; a history may hold both. Pure reads: ``analytics.report`` draws.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

__all__ = ["MAX_POOLS", "AvailabilityMap", "availability_maps", "capacity_map", "score_map"]

MAX_POOLS = 30  # more rows than this make a map unreadable: the most sampled are kept


@dataclass(frozen=True, slots=True)
class AvailabilityMap:
    """Cells of (pool, hour) -> value, for pools in name order and hours oldest first."""

    title: str  # the section's heading
    caption: str  # the plot's title: what a cell's colour is
    low: float  # the colour scale's ends
    high: float
    pools: tuple[str, ...]
    hours: tuple[datetime, ...]
    cells: tuple[tuple[str, datetime, float], ...]


def _map(
    rows: list[tuple[Any, ...]], *, title: str, caption: str, low: float, high: float
) -> AvailabilityMap | None:
    if not rows:
        return None
    cells = tuple((str(pool), hour, float(value)) for pool, hour, value in rows)
    return AvailabilityMap(
        title,
        caption,
        low,
        high,
        tuple(sorted({c[0] for c in cells})),
        tuple(sorted({c[1] for c in cells})),
        cells,
    )


def capacity_map(con: duckdb.DuckDBPyConnection) -> AvailabilityMap | None:
    """The capacity traces' map; None when the history holds no capacity but the collector's."""
    rows = con.execute(
        "WITH traced AS (SELECT * FROM capacity_observations WHERE source <> 'observed:price'), "
        "busiest AS (SELECT pool FROM traced GROUP BY pool ORDER BY count(*) DESC, pool LIMIT ?) "
        "SELECT pool, time_bucket(INTERVAL '1 hour', ts) AS hour, avg((capacity > 0)::INTEGER) "
        "FROM traced WHERE pool IN (SELECT pool FROM busiest) GROUP BY ALL ORDER BY pool, hour",
        [MAX_POOLS],
    ).fetchall()
    return _map(
        rows,
        title="Capacity over time",
        caption="Spot capacity over time (fraction of each hour with capacity, public traces)",
        low=0.0,
        high=1.0,
    )


def score_map(con: duckdb.DuckDBPyConnection) -> AvailabilityMap | None:
    """The placement scores' map; None when the history holds none."""
    rows = con.execute(
        """
        WITH scored AS (
            SELECT region || '/' || zone || '/' || instance_type AS pool, ts, score,
                   target_capacity,
                   max(target_capacity) OVER (PARTITION BY region, zone, instance_type) AS widest
            FROM placement_scores WHERE zone IS NOT NULL
        ),
        widest AS (SELECT pool, ts, score FROM scored WHERE target_capacity = widest),
        busiest AS (SELECT pool FROM widest GROUP BY pool ORDER BY count(*) DESC, pool LIMIT ?)
        SELECT pool, time_bucket(INTERVAL '1 hour', ts) AS hour, avg(score)
        FROM widest WHERE pool IN (SELECT pool FROM busiest) GROUP BY ALL ORDER BY pool, hour
        """,
        [MAX_POOLS],
    ).fetchall()
    return _map(
        rows,
        title="Placement score over time",
        caption="Spot placement score over time (each hour's mean, 1-10: how likely AWS said "
        "a request for the fleet's nodes would succeed)",
        low=1.0,
        high=10.0,
    )


def availability_maps(con: duckdb.DuckDBPyConnection) -> list[AvailabilityMap]:
    """Each map the history has rows for: capacity first, then placement scores."""
    return [m for m in (capacity_map(con), score_map(con)) if m is not None]
