"""A history file opened read-only (``train --history FILE``), and the pools it observed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from reconciler.core.errors import HistoryReadError

__all__ = ["ObservedPools", "observed_pools", "read_only_history"]


@contextmanager
def read_only_history(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """The file's connection, read-only, closed on leaving; one a daemon holds is refused."""
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise HistoryReadError(
            f"cannot open {path} read-only ({exc}); a running daemon holds its history: "
            "train on its Parquet export's copy, or stop it first"
        ) from exc
    try:
        yield con
    finally:
        con.close()


@dataclass(frozen=True, slots=True)
class ObservedPools:
    pools: tuple[str, ...]  # every pool a collector observed (a score, a node, a price run)
    last: datetime  # the latest collector observation (UTC)


# The price collector's rows say when it ran and which pools it saw offered; their capacity
# (a guess on AWS) is never read.
_OBSERVED = """
    SELECT region || '/' || zone || '/' || instance_type AS pool, ts FROM placement_scores
    WHERE zone IS NOT NULL
    UNION ALL SELECT pool, observed_at FROM nodes WHERE lifecycle = 'spot' AND pool IS NOT NULL
    UNION ALL SELECT pool, ts FROM interruption_events WHERE pool IS NOT NULL
    UNION ALL SELECT pool, ts FROM capacity_observations
"""


def observed_pools(con: duckdb.DuckDBPyConnection) -> ObservedPools:
    """The pools the history holds signals of and when a collector last observed one; none is
    an error that says how to get some."""
    rows = con.execute(f"SELECT DISTINCT pool FROM ({_OBSERVED}) ORDER BY pool").fetchall()
    last = con.execute(f"SELECT max(ts) FROM ({_OBSERVED})").fetchall()[0][0]
    if not rows or last is None:
        raise HistoryReadError(
            "the history holds no placement score, node or price collection of a fleet: run "
            "the daemon (its collectors record them) first"
        )
    return ObservedPools(tuple(str(r[0]) for r in rows), last.replace(tzinfo=UTC))
