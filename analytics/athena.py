"""Glue/Athena DDL for an export on S3, so Athena (or Spark through the Glue catalog) reads the
very files ``python -m analytics --export s3://...`` reads.

One table per history table, its columns and types from the snapshot's Parquet schema (from
the current schema where the export has no rows of it), its LOCATION the snapshot
``_latest.json`` names. Tables with a time are partitioned by ``day`` with partition
projection: Athena computes the ``day=YYYY-MM-DD/`` folders from a date range instead of
listing partitions in Glue, so neither ``MSCK REPAIR`` nor a crawler is needed.

Each export is a new snapshot, so the tables must follow it: the output is safe to run after
every export (``CREATE ... IF NOT EXISTS``, then ``ALTER TABLE`` statements that re-point the
table at the snapshot named now). Building the text is pure (:func:`table_ddl`); only
:func:`athena_ddl` reads S3.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.parquet as pq
from pyarrow import fs

from analytics.errors import AnalyticsError
from analytics.export_s3 import read_latest
from analytics.export_target import S3Location, s3_filesystem
from analytics.snapshot import PARTITION_COLUMNS, SNAPSHOTS, empty_history, history_tables

__all__ = ["DEFAULT_DATABASE", "AthenaTable", "athena_ddl", "hive_type", "table_ddl"]

DEFAULT_DATABASE = "spotfleet"
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,254}$")
_SIMPLE = {
    pa.bool_(): "boolean",
    pa.int8(): "tinyint",
    pa.int16(): "smallint",
    pa.int32(): "int",
    pa.int64(): "bigint",
    pa.uint8(): "smallint",
    pa.uint16(): "int",
    pa.uint32(): "bigint",
    pa.uint64(): "decimal(20,0)",
    pa.float16(): "float",
    pa.float32(): "float",
    pa.float64(): "double",
    pa.string(): "string",
    pa.large_string(): "string",
    pa.string_view(): "string",
    pa.binary(): "binary",
    pa.large_binary(): "binary",
    pa.date32(): "date",
    pa.date64(): "date",
}


def hive_type(arrow: pa.DataType) -> str:
    """The Hive (Glue, Athena, Spark) type of a Parquet column as Arrow reads it."""
    if isinstance(arrow, pa.ExtensionType):  # DuckDB's JSON reads as arrow.json over a string
        return hive_type(arrow.storage_type)
    if arrow in _SIMPLE:
        return _SIMPLE[arrow]
    if pa.types.is_timestamp(arrow):
        return "timestamp"
    if pa.types.is_decimal(arrow):
        return f"decimal({arrow.precision},{arrow.scale})"
    if pa.types.is_list(arrow) or pa.types.is_large_list(arrow):
        return f"array<{hive_type(arrow.value_type)}>"
    if pa.types.is_map(arrow):
        return f"map<{hive_type(arrow.key_type)},{hive_type(arrow.item_type)}>"
    if pa.types.is_struct(arrow):
        fields = ",".join(f"{f.name}:{hive_type(f.type)}" for f in arrow)
        return f"struct<{fields}>"
    raise AnalyticsError(f"the Parquet type {arrow} has no Athena type; export it as text first")


@dataclass(frozen=True, slots=True)
class AthenaTable:
    """One exported table as Athena sees it."""

    name: str
    columns: tuple[tuple[str, str], ...]  # (name, Hive type), in the files' order
    location: str  # s3://bucket/prefix/.snapshots/<id>/<table>/
    first_day: str | None  # the earliest day= folder; None for an unpartitioned table


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _properties(table: AthenaTable) -> list[tuple[str, str]]:
    if table.first_day is None:
        return []
    return [
        ("projection.enabled", "true"),
        ("projection.day.type", "date"),
        ("projection.day.format", "yyyy-MM-dd"),
        ("projection.day.range", f"{table.first_day},NOW"),
        ("projection.day.interval", "1"),
        ("projection.day.interval.unit", "DAYS"),
        ("storage.location.template", f"{table.location}day=${{day}}/"),
    ]


def table_ddl(table: AthenaTable, database: str = DEFAULT_DATABASE) -> list[str]:
    """The statements (without the trailing ``;``) that create ``table`` if it is missing
    and point it at its snapshot."""
    for name in (database, table.name):
        if not _NAME.match(name):
            raise AnalyticsError(
                f"{name!r} is not an Athena name: lowercase letters, digits and underscores"
            )
    qualified = f"`{database}`.`{table.name}`"
    columns = ",\n".join(f"  `{name}` {kind}" for name, kind in table.columns)
    create = [f"CREATE EXTERNAL TABLE IF NOT EXISTS {qualified} (\n{columns}\n)"]
    properties = _properties(table)
    if properties:
        # A string, as AWS's own projection examples have it: WHERE day >= '2024-03-01'.
        create.append("PARTITIONED BY (`day` string)")
    create += ["STORED AS PARQUET", f"LOCATION {_quote(table.location)}"]
    listed = ",\n".join(f"  {_quote(k)} = {_quote(v)}" for k, v in properties)
    if properties:
        create.append(f"TBLPROPERTIES (\n{listed}\n)")
    statements = [
        "\n".join(create),
        f"ALTER TABLE {qualified} SET LOCATION {_quote(table.location)}",
    ]
    if properties:
        repoint = [
            p for p in properties if p[0] in ("projection.day.range", "storage.location.template")
        ]
        pairs = ", ".join(f"{_quote(k)} = {_quote(v)}" for k, v in repoint)
        statements.append(f"ALTER TABLE {qualified} SET TBLPROPERTIES ({pairs})")
    return statements


def _first_day(s3: fs.FileSystem, key: str) -> str:
    listed = s3.get_file_info(fs.FileSelector(key, allow_not_found=True))
    days = sorted(
        i.base_name.removeprefix("day=")
        for i in listed
        if i.type == fs.FileType.Directory and i.base_name.startswith("day=")
    )
    if not days:
        raise AnalyticsError(f"s3://{key}/ has rows in its manifest but no day=YYYY-MM-DD folders")
    return str(days[0])


def _parquet_schema(s3: fs.FileSystem, key: str) -> pa.Schema:
    files = [
        i.path
        for i in s3.get_file_info(fs.FileSelector(key, recursive=True))
        if i.type == fs.FileType.File and i.path.endswith(".parquet")
    ]
    if not files:
        raise AnalyticsError(f"s3://{key}/ has rows in its manifest but no Parquet files")
    with s3.open_input_file(min(files)) as source:
        schema: pa.Schema = pq.read_schema(source)
    return schema


def exported_tables(location: S3Location, s3: fs.FileSystem) -> tuple[str, list[AthenaTable]]:
    """The snapshot ``_latest.json`` names, and each of its tables as Athena will see it."""
    latest = read_latest(location, s3)
    con = empty_history()
    tables = []
    try:
        for name in history_tables(con):
            key = location.key(SNAPSHOTS, latest.snapshot, name)
            partitioned = name in PARTITION_COLUMNS
            if latest.tables.get(name):
                schema = _parquet_schema(s3, key)
                first_day = _first_day(s3, key) if partitioned else None
            else:  # no rows, no files: the columns the current schema gives it
                schema = con.sql(f'SELECT * FROM "{name}" LIMIT 0').to_arrow_table().schema
                stamp = latest.snapshot
                first_day = f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}" if partitioned else None
            columns = tuple((f.name, hive_type(f.type)) for f in schema if f.name != "day")
            tables.append(AthenaTable(name, columns, f"s3://{key}/", first_day))
    finally:
        con.close()
    return latest.snapshot, tables


def athena_ddl(
    location: S3Location, database: str = DEFAULT_DATABASE, s3: fs.FileSystem | None = None
) -> str:
    """Every statement, each ending with ``;``, for the export at ``location``."""
    try:
        snapshot, tables = exported_tables(location, s3 or s3_filesystem())
    except OSError as exc:
        raise AnalyticsError(f"cannot read the export at {location.uri}: {exc}") from exc
    header = (
        f"-- The spotfleet history exported to {location.uri}, snapshot {snapshot}.\n"
        "-- Safe to run after every export: CREATE is skipped where the table exists, and\n"
        "-- ALTER points it at the snapshot named now. Athena runs one statement at a time."
    )
    statements = [f"CREATE DATABASE IF NOT EXISTS `{database}`"]
    for table in tables:
        statements += table_ddl(table, database)
    return header + "\n\n" + "\n\n".join(f"{s};" for s in statements) + "\n"
