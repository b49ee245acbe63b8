"""Parquet export for analysts, and reading it back.

The daemon holds the history file; DuckDB lets no other process open it, so analysts read this
export. Every table goes to ``DIR/<table>/`` as hive-partitioned Parquet (by ``day=`` for tables
with a time), readable by DuckDB, Athena or Spark.

Crash-safe by one rule: an export becomes visible all at once, through one pointer written
last. Each export is written whole into ``DIR/.snapshots/<id>/``; its ``_manifest.json``
(tables and row counts), written after every table, marks it complete; then ``DIR/_latest.json``
is replaced atomically to name it. That file is the pointer readers follow (and the rule works
unchanged on S3, where an object put is atomic). For engines that read plain paths,
``DIR/current`` is then re-pointed to the same snapshot (one symlink, replaced atomically)
and ``DIR/<table>`` links through it, so every table flips at once.

Retention never deletes a snapshot a pointer names: it keeps the one ``_latest.json`` names,
the one ``current`` names, and the newest complete one before them (for readers still in it);
snapshots without a manifest (an export killed part-way) are swept.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import uuid
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from analytics.errors import AnalyticsError
from analytics.store import History, migrations

__all__ = [
    "LATEST",
    "MANIFEST",
    "PARTITION_COLUMNS",
    "export_history",
    "latest_snapshot",
    "open_export",
]

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
LATEST = "_latest.json"
MANIFEST = "_manifest.json"
_CURRENT = "current"
_SNAPSHOTS = ".snapshots"
# For the crash tests only: SIGKILL this process after that many steps of an export.
_KILL_AFTER_STEPS = "SPOTFLEET_EXPORT_KILL_AFTER_STEPS"


class _Steps:
    def __init__(self) -> None:
        limit = os.environ.get(_KILL_AFTER_STEPS)
        self.limit = int(limit) if limit else None
        self.done = 0

    def __call__(self) -> None:
        self.done += 1
        if self.limit is not None and self.done >= self.limit:
            os.kill(os.getpid(), signal.SIGKILL)


def _tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = 'main' AND table_type = 'BASE TABLE' "
        "AND table_name <> 'schema_version' ORDER BY table_name"
    ).fetchall()
    return [r[0] for r in rows]


def _write_atomically(path: Path, text: str) -> None:
    staging = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    with open(staging, "w") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    os.replace(staging, path)
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _link(link: Path, target: Path) -> None:
    """Point ``link`` at ``target`` with one atomic rename."""
    staging = link.with_name(f".{link.name}.{uuid.uuid4().hex[:8]}")
    staging.symlink_to(target)
    os.replace(staging, link)


def _write_snapshot(con: duckdb.DuckDBPyConnection, snapshot: Path, step: _Steps) -> dict[str, int]:
    written = {}
    for table in _tables(con):
        target = snapshot / table
        target.mkdir()
        count = con.execute(f'SELECT count(*) FROM "{table}"').fetchall()[0][0]
        written[table] = int(count)
        if count:
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
        step()
    return written


def export_history(history: History, directory: Path) -> dict[str, int]:
    """Write every table as Parquet under ``directory``; returns rows written per table."""
    directory.mkdir(parents=True, exist_ok=True)
    step = _Steps()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f") + "-" + uuid.uuid4().hex[:8]
    snapshot = directory / _SNAPSHOTS / stamp
    snapshot.mkdir(parents=True)
    try:
        written = _write_snapshot(history.con, snapshot, step)
    except duckdb.Error as exc:
        shutil.rmtree(snapshot, ignore_errors=True)
        raise AnalyticsError(f"export to {directory} failed: {exc}") from exc
    manifest = {"snapshot": stamp, "schema_version": history.schema_version, "tables": written}
    _write_atomically(snapshot / MANIFEST, json.dumps(manifest, indent=2))
    step()
    _write_atomically(directory / LATEST, json.dumps(manifest, indent=2))  # now visible
    step()
    _link(directory / _CURRENT, Path(_SNAPSHOTS) / stamp)
    step()
    for table in written:
        link = directory / table
        if link.exists() and not link.is_symlink():
            raise AnalyticsError(f"{link} exists and is not an export link; move it away first")
        if not link.is_symlink() or os.readlink(link) != str(Path(_CURRENT) / table):
            _link(link, Path(_CURRENT) / table)
    step()
    _retain(directory, step)
    return written


def _retain(directory: Path, step: _Steps) -> None:
    """Sweep killed exports; keep what a pointer names and the newest complete one before."""
    snapshots = sorted((directory / _SNAPSHOTS).iterdir())
    named = {latest_snapshot(directory).name}
    current = directory / _CURRENT
    if current.is_symlink():
        named.add(Path(os.readlink(current)).name)
    complete = [s for s in snapshots if (s / MANIFEST).is_file()]
    newest_named = max(s for s in complete if s.name in named)
    older = [s for s in complete if s < newest_named and s.name not in named]
    keep = named | {s.name for s in older[-1:]}
    for old in snapshots:
        if old.name not in keep:
            shutil.rmtree(old, ignore_errors=True)
            step()


def latest_snapshot(directory: Path) -> Path:
    """The folder of the export readers see: the snapshot ``_latest.json`` names."""
    pointer = directory / LATEST
    try:
        name = json.loads(pointer.read_text())["snapshot"]
    except FileNotFoundError as exc:
        raise AnalyticsError(
            f"{directory} has no {LATEST}: no export has finished there yet "
            "(write one with `export DIR`)"
        ) from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise AnalyticsError(f"{pointer} is not an export pointer ({exc})") from exc
    snapshot = directory / _SNAPSHOTS / str(name)
    if not (snapshot / MANIFEST).is_file():
        raise AnalyticsError(f"{pointer} names {snapshot}, which is not a complete export")
    return snapshot


def open_export(directory: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB whose tables are views over the export, so every canned query runs
    unchanged; a table the export has no rows for is an empty table of the current schema.
    Every view reads the one snapshot ``_latest.json`` named when it was opened."""
    if not directory.is_dir():
        raise AnalyticsError(f"{directory} is not an export folder (write one with `export DIR`)")
    snapshot = latest_snapshot(directory).resolve()
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for migration in migrations():
        con.execute(migration.sql)
    for table in _tables(con):
        files = list((snapshot / table).glob("**/*.parquet"))
        if not files:
            continue
        con.execute(f'DROP TABLE "{table}"')
        # A view cannot take a bound parameter: the path goes in as an escaped literal.
        pattern = str(snapshot / table / "**" / "*.parquet").replace("'", "''")
        partitioned = table in PARTITION_COLUMNS
        con.execute(
            f'CREATE VIEW "{table}" AS SELECT * {"EXCLUDE (day) " if partitioned else ""}'
            f"FROM read_parquet('{pattern}', hive_partitioning = {str(partitioned).lower()})"
        )
    return con
