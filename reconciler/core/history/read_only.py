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
    pools: tuple[str, ...]  # every pool with a capacity observation, by name
    last: datetime  # the latest observation (UTC)


def observed_pools(con: duckdb.DuckDBPyConnection) -> ObservedPools:
    """The pools the history observed and when it last did; none is an error that says how
    to get some."""
    rows = con.execute("SELECT DISTINCT pool FROM capacity_observations ORDER BY pool").fetchall()
    last = con.execute("SELECT max(ts) FROM capacity_observations").fetchall()[0][0]
    if not rows or last is None:
        raise HistoryReadError(
            "the history holds no capacity observation: run the daemon (its price collector "
            "records them) or ingest traces first"
        )
    return ObservedPools(tuple(str(r[0]) for r in rows), last.replace(tzinfo=UTC))
