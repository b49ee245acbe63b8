"""Parquet export for analysts, and reading it back.

The daemon holds the history file; DuckDB lets no other process open it, so analysts read this
export. Every table goes to ``DIR/<table>/`` as hive-partitioned Parquet (by ``day=`` for tables
with a time), readable by DuckDB, Athena or Spark. Each export is written whole into
``DIR/.snapshots/<id>/`` and then swapped in by replacing the ``DIR/<table>`` symlinks, which is
atomic: a reader sees the previous export or the new one, never half of one.
"""

from __future__ import annotations

import os
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from analytics.errors import AnalyticsError
from analytics.store import History, migrations

__all__ = ["PARTITION_COLUMNS", "export_history", "open_export"]

# The time each table is partitioned by; tables not named here are written unpartitioned.
PARTITION_COLUMNS = {
    "spot_prices": "ts",
    "on_demand_prices": "effective_at",
    "capacity_observations": "ts",
    "interruption_events": "ts",
    "predictions": "ts",
    "decisions": "ts",
    "fleet_actions": "ts",
    "nodes": "coalesce(launched_at, observed_at)",
    "jobs": "coalesce(submitted_at, started_at, updated_at)",
}
_KEEP_SNAPSHOTS = 2  # the one just replaced stays, for readers still in the middle of it


def _tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = 'main' AND table_type = 'BASE TABLE' "
        "AND table_name <> 'schema_version' ORDER BY table_name"
    ).fetchall()
    return [r[0] for r in rows]


def export_history(history: History, directory: Path) -> dict[str, int]:
    """Write every table as Parquet under ``directory``; returns rows written per table."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f") + "-" + uuid.uuid4().hex[:8]
    snapshot = directory / ".snapshots" / stamp
    snapshot.mkdir(parents=True)
    con = history.con
    written = {}
    try:
        for table in _tables(con):
            target = snapshot / table
            target.mkdir()
            count = con.execute(f'SELECT count(*) FROM "{table}"').fetchall()[0][0]
            written[table] = int(count)
            if not count:
                continue
            column = PARTITION_COLUMNS.get(table)
            if column:
                con.execute(
                    f'COPY (SELECT *, CAST({column} AS DATE) AS day FROM "{table}") TO ? '
                    "(FORMAT PARQUET, PARTITION_BY (day), COMPRESSION zstd)",
                    [str(target)],
                )
            else:
                con.execute(
                    f'COPY "{table}" TO ? (FORMAT PARQUET, COMPRESSION zstd)',
                    [str(target / "data.parquet")],
                )
    except duckdb.Error as exc:
        shutil.rmtree(snapshot, ignore_errors=True)
        raise AnalyticsError(f"export to {directory} failed: {exc}") from exc
    for table in written:
        link = directory / table
        if link.exists() and not link.is_symlink():
            raise AnalyticsError(f"{link} exists and is not an export link; move it away first")
        staging = directory / f".{table}.{stamp}"
        staging.symlink_to(Path(".snapshots") / stamp / table)
        os.replace(staging, link)
    snapshots = sorted((directory / ".snapshots").iterdir())
    for old in snapshots[:-_KEEP_SNAPSHOTS]:
        shutil.rmtree(old, ignore_errors=True)
    return written


def open_export(directory: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB whose tables are views over the export, so every canned query runs
    unchanged; a table the export has no rows for is an empty table of the current schema."""
    if not directory.is_dir():
        raise AnalyticsError(f"{directory} is not an export folder (write one with `export DIR`)")
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for migration in migrations():
        con.execute(migration.sql)
    for table in _tables(con):
        files = list((directory / table).glob("**/*.parquet"))
        if not files:
            continue
        con.execute(f'DROP TABLE "{table}"')
        # A view cannot take a bound parameter: the path goes in as an escaped literal.
        pattern = str(directory.resolve() / table / "**" / "*.parquet").replace("'", "''")
        partitioned = table in PARTITION_COLUMNS
        con.execute(
            f'CREATE VIEW "{table}" AS SELECT * {"EXCLUDE (day) " if partitioned else ""}'
            f"FROM read_parquet('{pattern}', hive_partitioning = {str(partitioned).lower()})"
        )
    return con
