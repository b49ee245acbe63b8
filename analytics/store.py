"""The history file: open it, bring its schema up to date, hand out the connection.

The daemon is the history's single writer. DuckDB lets no other process open a file a writer
holds, not even read-only, so analysts read the Parquet export (``analytics.export``) instead.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb

from analytics.errors import AnalyticsError, HistoryLockedError, HistoryVersionError

__all__ = [
    "DEFAULT_HISTORY_PATH",
    "History",
    "Migration",
    "first_row",
    "latest_schema_version",
    "migrations",
    "open_history",
]

# The daemon and the analyst commands agree on this default; SPOTFLEET_HISTORY_DB moves it.
DEFAULT_HISTORY_PATH = Path(os.environ.get("SPOTFLEET_HISTORY_DB", "var/history.duckdb"))

_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


def first_row(
    con: duckdb.DuckDBPyConnection, sql: str, params: object = None
) -> tuple[Any, ...] | None:
    """The first row of a query, fetched to the end: DuckDB 2 refuses further work on a
    connection while a result is only partly read (as ``fetchone`` leaves it)."""
    rows = con.execute(sql, params).fetchall()
    return rows[0] if rows else None


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def migrations() -> list[Migration]:
    """Every schema migration shipped with this version, in order."""
    found = []
    for entry in resources.files("analytics.migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), match.group(2), entry.read_text()))
    found.sort(key=lambda m: m.version)
    return found


def latest_schema_version() -> int:
    return migrations()[-1].version


@dataclass(slots=True)
class History:
    """An open history: a DuckDB connection whose schema is current."""

    con: duckdb.DuckDBPyConnection
    path: str
    schema_version: int

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> History:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def open_history(path: str | Path = ":memory:", *, read_only: bool = False) -> History:
    """Open (creating if needed) a history file and run any pending migrations.

    A file written by a newer spotfleet is refused rather than guessed at; a read-only open of
    an older file is refused too, since upgrading it means writing.
    """
    name = str(path)
    if name != ":memory:" and not read_only:
        Path(name).parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(name, read_only=read_only)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise HistoryLockedError(
                f"{name} is held by another process (the daemon is its single writer). "
                "Read the daemon's Parquet export instead: python -m analytics --export DIR ..."
            ) from exc
        raise AnalyticsError(f"cannot open history {name}: {exc}") from exc
    except duckdb.Error as exc:
        raise AnalyticsError(f"cannot open history {name}: {exc}") from exc
    try:
        # Every time in the history is UTC; without this, casts follow the host's zone.
        con.execute("SET TimeZone = 'UTC'")
        version = _migrate(con, name, read_only=read_only)
    except BaseException:
        con.close()
        raise
    return History(con=con, path=name, schema_version=version)


def _current_version(con: duckdb.DuckDBPyConnection) -> int:
    exists = first_row(
        con, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
    )
    if not exists or not exists[0]:
        return 0
    row = first_row(con, "SELECT coalesce(max(version), 0) FROM schema_version")
    return int(row[0]) if row else 0


def _migrate(con: duckdb.DuckDBPyConnection, name: str, *, read_only: bool) -> int:
    known = migrations()
    latest = known[-1].version
    current = _current_version(con)
    if current > latest:
        raise HistoryVersionError(
            f"{name} has schema version {current}, but this spotfleet knows versions up to "
            f"{latest}: upgrade spotfleet to read it (nothing was changed)"
        )
    pending = [m for m in known if m.version > current]
    if pending and read_only:
        raise HistoryVersionError(
            f"{name} has schema version {current} and needs upgrading to {latest}; "
            "open it once for writing (e.g. python -m analytics --db FILE sql 'SELECT 1')"
        )
    for migration in pending:
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(
                "CREATE TABLE IF NOT EXISTS schema_version "
                "(version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, "
                "applied_at TIMESTAMP NOT NULL)"
            )
            con.execute(migration.sql)
            con.execute(
                "INSERT INTO schema_version VALUES (?, ?, now()::TIMESTAMP)",
                [migration.version, migration.name],
            )
            con.execute("COMMIT")
        except duckdb.Error as exc:
            con.execute("ROLLBACK")
            raise AnalyticsError(
                f"{name}: migration {migration.version} ({migration.name}) failed: {exc}"
            ) from exc
    return latest
