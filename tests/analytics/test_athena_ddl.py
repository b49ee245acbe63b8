"""``athena-ddl`` (issue 16 item 1): Glue/Athena tables over a real export on moto's S3. The
DDL's shape is checked against the export itself: one table per history table, every column
in the files' order with its type, the snapshot ``_latest.json`` names as LOCATION, and a
partition projection whose template names the day folders the export wrote."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from analytics.athena import AthenaTable, athena_ddl, hive_type, table_ddl
from analytics.errors import AnalyticsError
from analytics.export import export_history
from analytics.export_target import S3Location, s3_filesystem
from analytics.ingest.events import ingest_events
from analytics.ingest.prices import ingest_spot_price_pages, read_price_pages
from analytics.ingest.traces import ingest_traces
from analytics.store import History

from .conftest import S3, write_trace

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
# DuckDB's type of each history column -> the Hive type Athena must declare for it.
HIVE_OF_DUCKDB = {
    "VARCHAR": "string",
    "JSON": "string",
    "TIMESTAMP": "timestamp",
    "DATE": "date",
    "INTEGER": "int",
    "BIGINT": "bigint",
    "SMALLINT": "smallint",
    "DOUBLE": "double",
    "FLOAT": "float",
    "BOOLEAN": "boolean",
}
CREATE = re.compile(
    r"CREATE EXTERNAL TABLE IF NOT EXISTS `spotfleet`\.`(?P<table>\w+)` \(\n(?P<columns>.*?)\n\)\n"
    r"(?:PARTITIONED BY \(`day` string\)\n)?STORED AS PARQUET\nLOCATION '(?P<location>[^']+)'"
    r"(?:\nTBLPROPERTIES \(\n(?P<properties>.*?)\n\))?;",
    re.S,
)


def seeded(history: History, tmp_path: Path) -> None:
    """Rows in every kind of column the market side writes: traces, prices, real events."""
    folder = tmp_path / "aws-03-01-2024"
    write_trace(folder, "us-east-1a_v100_1", [1, 0, 1, 1] * 30, gap=3600)
    ingest_traces(history, folder)
    pages = read_price_pages(FIXTURES / "prices" / "describe-spot-price-history-vpc.json")
    ingest_spot_price_pages(history, pages, source="fixture")
    for event in sorted((FIXTURES / "events").glob("*.json")):
        ingest_events(history, event)


def creates(ddl: str) -> dict[str, dict[str, str]]:
    found = {}
    for match in CREATE.finditer(ddl):
        found[match["table"]] = match.groupdict()
    return found


def test_the_ddl_declares_every_table_and_column_of_the_export_at_its_snapshot(
    s3: S3, history: History, tmp_path: Path
) -> None:
    seeded(history, tmp_path)
    written = export_history(history, f"s3://{s3.bucket}/history")
    latest = json.loads(s3.read("history/_latest.json"))
    ddl = athena_ddl(S3Location(s3.bucket, "history"))
    tables = creates(ddl)
    assert set(tables) == set(written)
    assert ddl.count("CREATE EXTERNAL TABLE") == len(written)
    filesystem = s3_filesystem()
    for name, table in tables.items():
        described = history.con.execute(f'DESCRIBE "{name}"').fetchall()
        expected = [f"  `{col}` {HIVE_OF_DUCKDB[kind]}" for col, kind, *_ in described]
        assert table["columns"].split(",\n") == expected, name
        location = f"s3://{s3.bucket}/history/.snapshots/{latest['snapshot']}/{name}/"
        assert table["location"] == location
        assert f"ALTER TABLE `spotfleet`.`{name}` SET LOCATION '{location}';" in ddl
        if not written[name]:
            continue
        # What Athena reads at that LOCATION: the export's rows, every one.
        files = ds.dataset(
            location.removeprefix("s3://"), filesystem=filesystem, format="parquet",
            partitioning="hive" if table["properties"] else None,
        )  # fmt: skip
        assert files.count_rows() == written[name]
        if table["properties"] is None:
            continue
        properties = dict(re.findall(r"'([^']+)' = '([^']+)'", table["properties"]))
        days = sorted({k.split("/")[4] for k in s3.keys(location.split("/", 3)[3])})
        assert properties["projection.enabled"] == "true"
        assert properties["projection.day.type"] == "date"
        assert properties["projection.day.format"] == "yyyy-MM-dd"
        assert properties["projection.day.range"] == f"{days[0].removeprefix('day=')},NOW"
        template = properties["storage.location.template"]
        assert template == f"{location}day=${{day}}/"
        for day in days:  # every folder projection computes holds the day's files
            prefix = template.replace("${day}", day.removeprefix("day=")).split("/", 3)[3]
            assert s3.keys(prefix), prefix
    assert {"spot_prices", "interruption_events", "capacity_observations"} <= {
        t for t, n in written.items() if n
    }


def test_athena_ddl_from_the_command_line_and_a_local_folder_refused(
    s3: S3, history: History, tmp_path: Path
) -> None:
    seeded(history, tmp_path)
    export_history(history, f"s3://{s3.bucket}/h")
    run = [sys.executable, "-m", "analytics", "athena-ddl"]
    printed = subprocess.run(
        [*run, f"s3://{s3.bucket}/h", "--database", "analysts"], capture_output=True, text=True
    )
    assert printed.returncode == 0, printed.stderr
    assert "CREATE DATABASE IF NOT EXISTS `analysts`;" in printed.stdout
    assert "CREATE EXTERNAL TABLE IF NOT EXISTS `analysts`.`spot_prices` (" in printed.stdout
    local = subprocess.run([*run, str(tmp_path)], capture_output=True, text=True)
    assert local.returncode == 2 and "athena-ddl reads an export on S3" in local.stderr


def test_hive_types_of_nested_and_unusual_columns() -> None:
    assert hive_type(pa.list_(pa.struct([("a", pa.int64()), ("b", pa.string())]))) == (
        "array<struct<a:bigint,b:string>>"
    )
    assert hive_type(pa.map_(pa.string(), pa.float64())) == "map<string,double>"
    assert hive_type(pa.decimal128(18, 4)) == "decimal(18,4)"
    assert hive_type(pa.timestamp("us", tz="UTC")) == "timestamp"
    with pytest.raises(AnalyticsError, match="has no Athena type"):
        hive_type(pa.duration("s"))


def test_a_table_or_database_name_athena_cannot_take_is_refused() -> None:
    table = AthenaTable("pools", (("pool", "string"),), "s3://b/p/", None)
    with pytest.raises(AnalyticsError, match="not an Athena name"):
        table_ddl(table, database="Analysts-DB")
