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

On S3 (``s3://bucket/prefix``, ``analytics.export_s3``) the same snapshot is written to
``prefix/.snapshots/<id>/`` and ``prefix/_latest.json`` is put last; there are no links, so
readers follow the pointer (``open_export``) or the Athena DDL (``analytics.athena``).
"""

from __future__ import annotations

import os
import shutil
import uuid
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import duckdb

from analytics.errors import AnalyticsError
from analytics.export_s3 import export_to_s3, open_s3_export
from analytics.export_target import ExportTarget, S3Location, parse_export_target
from analytics.snapshot import (
    LATEST,
    MANIFEST,
    PARTITION_COLUMNS,
    SNAPSHOTS,
    Manifest,
    Steps,
    empty_history,
    history_tables,
    new_snapshot_id,
    snapshots_to_sweep,
    write_tables,
)
from analytics.store import History

__all__ = [
    "LATEST",
    "MANIFEST",
    "PARTITION_COLUMNS",
    "export_history",
    "latest_snapshot",
    "open_export",
]

_CURRENT = "current"


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


def export_history(
    history: History,
    target: ExportTarget | str,
    *,
    reading: AbstractContextManager[object] | None = None,
) -> dict[str, int]:
    """Write every table as Parquet to a folder or an ``s3://bucket/prefix``; returns rows
    written per table. ``reading`` is held while the history is read, and only then."""
    where = parse_export_target(target)
    if isinstance(where, S3Location):
        return export_to_s3(history, where, reading=reading)
    return _export_to_folder(history, where, reading)


def _export_to_folder(
    history: History, directory: Path, reading: AbstractContextManager[object] | None
) -> dict[str, int]:
    directory.mkdir(parents=True, exist_ok=True)
    step = Steps()
    stamp = new_snapshot_id()
    snapshot = directory / SNAPSHOTS / stamp
    snapshot.mkdir(parents=True)
    try:
        with reading or nullcontext():
            written = write_tables(history.con, snapshot, lambda _table: step())
    except duckdb.Error as exc:
        shutil.rmtree(snapshot, ignore_errors=True)
        raise AnalyticsError(f"export to {directory} failed: {exc}") from exc
    manifest = Manifest(stamp, history.schema_version, written).to_json()
    _write_atomically(snapshot / MANIFEST, manifest)
    step()
    _write_atomically(directory / LATEST, manifest)  # now visible
    step()
    _link(directory / _CURRENT, Path(SNAPSHOTS) / stamp)
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


def _retain(directory: Path, step: Steps) -> None:
    """Sweep killed exports; keep what a pointer names and the newest complete one before."""
    snapshots = [s.name for s in (directory / SNAPSHOTS).iterdir()]
    named = {latest_snapshot(directory).name}
    current = directory / _CURRENT
    if current.is_symlink():
        named.add(Path(os.readlink(current)).name)
    complete = [s for s in snapshots if (directory / SNAPSHOTS / s / MANIFEST).is_file()]
    for old in snapshots_to_sweep(snapshots, complete, named):
        shutil.rmtree(directory / SNAPSHOTS / old, ignore_errors=True)
        step()


def latest_snapshot(directory: Path) -> Path:
    """The folder of the export readers see: the snapshot ``_latest.json`` names."""
    pointer = directory / LATEST
    try:
        text = pointer.read_text()
    except FileNotFoundError as exc:
        raise AnalyticsError(
            f"{directory} has no {LATEST}: no export has finished there yet "
            "(write one with `export DIR`)"
        ) from exc
    snapshot = directory / SNAPSHOTS / Manifest.from_json(text, str(pointer)).snapshot
    if not (snapshot / MANIFEST).is_file():
        raise AnalyticsError(f"{pointer} names {snapshot}, which is not a complete export")
    return snapshot


def open_export(target: ExportTarget | str) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB whose tables are views over the export, so every canned query runs
    unchanged; a table the export has no rows for is an empty table of the current schema.
    Every view reads the one snapshot ``_latest.json`` named when it was opened."""
    where = parse_export_target(target)
    if isinstance(where, S3Location):
        return open_s3_export(where)
    if not where.is_dir():
        raise AnalyticsError(f"{where} is not an export folder (write one with `export DIR`)")
    snapshot = latest_snapshot(where).resolve()
    con = empty_history()
    for table in history_tables(con):
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
