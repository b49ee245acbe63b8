"""The export on S3: the same snapshot as in a folder, through pyarrow's S3 filesystem.

S3 has no rename and no symlink, but a put is atomic and a reader never sees half an object.
So: DuckDB writes the snapshot into a local staging folder (under ``$TMPDIR``, removed after),
each table is uploaded to ``prefix/.snapshots/<id>/<table>/``; then
``.snapshots/<id>/_manifest.json``; then ``prefix/_latest.json``, the pointer, last. A kill at
any moment leaves ``_latest.json`` naming the previous complete snapshot; the next export
sweeps the partial one, and S3 aborts a killed multipart upload by the bucket's lifecycle
rule. Readers (``open_s3_export``, the Athena DDL) follow the pointer.

Objects are put one by one, never through ``create_dir``: S3 has no folders, and the empty
``folder/`` marker objects pyarrow would make are noise to Athena and Spark inside a table.
(Deleting a snapshot leaves one such marker, ``prefix/.snapshots/``, outside every table.)
"""

from __future__ import annotations

import tempfile
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import duckdb
import pyarrow.dataset as ds
from pyarrow import fs

from analytics.errors import AnalyticsError
from analytics.export_target import S3Location, s3_filesystem
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

__all__ = ["export_to_s3", "open_s3_export", "read_latest"]

_CHUNK = 8 << 20


def _cannot(action: str, location: S3Location, exc: Exception) -> AnalyticsError:
    return AnalyticsError(
        f"cannot {action} {location.uri}: {exc}. Check that the bucket exists, that these "
        "credentials may read and write that prefix, and AWS_ENDPOINT_URL if set"
    )


def _upload_folder(s3: fs.FileSystem, folder: Path, key: str) -> None:
    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
        with (
            open(file, "rb") as source,
            s3.open_output_stream(f"{key}/{file.relative_to(folder).as_posix()}") as out,
        ):
            while chunk := source.read(_CHUNK):
                out.write(chunk)


def _put(s3: fs.FileSystem, key: str, text: str) -> None:
    with s3.open_output_stream(key) as out:
        out.write(text.encode())


def export_to_s3(
    history: History,
    location: S3Location,
    s3: fs.FileSystem | None = None,
    *,
    reading: AbstractContextManager[object] | None = None,
) -> dict[str, int]:
    """Write every table under ``location`` as one snapshot; returns rows written per table.

    ``reading`` is held only while DuckDB writes the staging folder (the daemon passes its
    history's lock); the upload runs without it, so S3's latency never blocks the history."""
    s3 = s3 or s3_filesystem()
    step = Steps()
    stamp = new_snapshot_id()
    snapshot = location.key(SNAPSHOTS, stamp)
    try:
        with tempfile.TemporaryDirectory(prefix="spotfleet-export-") as staging:
            local = Path(staging)
            with reading or nullcontext():
                written = write_tables(history.con, local, lambda _table: None)
                manifest = Manifest(stamp, history.schema_version, written).to_json()
            for table in written:
                _upload_folder(s3, local / table, f"{snapshot}/{table}")
                step()
        _put(s3, f"{snapshot}/{MANIFEST}", manifest)
        step()
        _put(s3, location.key(LATEST), manifest)  # now visible
        step()
        _retain(s3, location, step)
    except duckdb.Error as exc:
        raise AnalyticsError(f"export to {location.uri} failed: {exc}") from exc
    except OSError as exc:
        raise _cannot("export to", location, exc) from exc
    return written


def _retain(s3: fs.FileSystem, location: S3Location, step: Steps) -> None:
    """Sweep killed exports; keep what ``_latest.json`` names (read back, not assumed) and
    the newest complete snapshot before it."""
    named = {read_latest(location, s3).snapshot}
    listed = s3.get_file_info(fs.FileSelector(location.key(SNAPSHOTS), allow_not_found=True))
    snapshots = [i.base_name for i in listed if i.type == fs.FileType.Directory]
    manifests = s3.get_file_info([location.key(SNAPSHOTS, s, MANIFEST) for s in snapshots])
    complete = [s for s, m in zip(snapshots, manifests, strict=True) if m.type == fs.FileType.File]
    for old in snapshots_to_sweep(snapshots, complete, named):
        s3.delete_dir(location.key(SNAPSHOTS, old))
        step()


def read_latest(location: S3Location, s3: fs.FileSystem | None = None) -> Manifest:
    """The manifest ``_latest.json`` holds, once its snapshot's own manifest is there."""
    s3 = s3 or s3_filesystem()
    pointer = location.uri_of(LATEST)
    try:
        with s3.open_input_stream(location.key(LATEST)) as source:
            latest = Manifest.from_json(source.read(), pointer)
        found = s3.get_file_info(location.key(SNAPSHOTS, latest.snapshot, MANIFEST))
    except FileNotFoundError as exc:
        raise AnalyticsError(
            f"{location.uri} has no {LATEST}: no export has finished there yet "
            f"(write one with `export {location.uri}`)"
        ) from exc
    except OSError as exc:
        raise _cannot("read", location, exc) from exc
    if found.type != fs.FileType.File:
        raise AnalyticsError(
            f"{pointer} names {location.uri_of(SNAPSHOTS, latest.snapshot)}, "
            "which is not a complete export"
        )
    return latest


def open_s3_export(
    location: S3Location, s3: fs.FileSystem | None = None
) -> duckdb.DuckDBPyConnection:
    """As ``analytics.export.open_export``, over S3: each table a view over an Arrow dataset
    of the snapshot ``_latest.json`` names (DuckDB scans it, pushing down columns and
    filters; its own httpfs extension is not needed)."""
    s3 = s3 or s3_filesystem()
    latest = read_latest(location, s3)
    con = empty_history()
    try:
        for table in history_tables(con):
            if not latest.tables.get(table):
                continue
            partitioned = table in PARTITION_COLUMNS
            dataset = ds.dataset(
                location.key(SNAPSHOTS, latest.snapshot, table),
                filesystem=s3,
                format="parquet",
                partitioning="hive" if partitioned else None,
            )
            con.execute(f'DROP TABLE "{table}"')
            relation = con.from_arrow(dataset)
            if partitioned:
                relation = relation.select("* EXCLUDE (day)")
            relation.create_view(table)
    except OSError as exc:
        con.close()
        raise _cannot("read", location, exc) from exc
    return con
