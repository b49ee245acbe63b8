"""Spot and on-demand prices: boto3's DescribeSpotPriceHistory pages, the public snapshot archive,
and on-demand list prices."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from analytics.errors import IngestError
from analytics.ingest.common import IngestResult, insert_new, load_json, read_text, transaction
from analytics.ingest.whole import check_whole
from analytics.pools import _REGION_CODES, Pool
from analytics.store import History, first_row

__all__ = [
    "SPOT_PRICE_COLUMNS",
    "ingest_on_demand_prices",
    "ingest_price_snapshot",
    "ingest_spot_price_pages",
    "normalise_product",
    "read_price_pages",
    "spot_price_table",
]

SPOT_PRICE_COLUMNS = (
    "region",
    "zone",
    "instance_type",
    "product",
    "ts",
    "price",
    "source",
    "zone_id",
)
_VPC = " (Amazon VPC)"


def normalise_product(product: str) -> str:
    """'Linux/UNIX (Amazon VPC)' is 'Linux/UNIX' in a VPC, where every instance now runs;
    the same for every product AWS also names with the suffix: one name per product, the one
    the queries and the planner use."""
    return product.removesuffix(_VPC)


_SPOT_PRICE_KEY = ("zone", "instance_type", "product", "ts")
_CSV_LINE = re.compile(r"CSV Error on Line: (\d+)")


def _utc(value: Any, where: str, source: str) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError as exc:
            raise IngestError(
                source, where, f"Timestamp {value!r} is not an ISO 8601 time"
            ) from exc
    else:
        raise IngestError(source, where, f"Timestamp {value!r} is not a time")
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _price(value: Any, where: str, source: str, field: str) -> float:
    try:
        price = float(value)
    except (TypeError, ValueError) as exc:
        raise IngestError(source, where, f"{field} {value!r} is not a number") from exc
    if not math.isfinite(price) or price < 0:
        raise IngestError(source, where, f"{field} {value!r} must be a finite price >= 0")
    return price


def spot_price_table(pages: Iterable[Mapping[str, Any]], *, source: str) -> pa.Table:
    """DescribeSpotPriceHistory pages (as boto3 returns them, or read back from JSON) → Arrow.

    Refuses the whole input at the first malformed record, naming the page and record.
    """
    columns: dict[str, list[Any]] = {name: [] for name in SPOT_PRICE_COLUMNS}
    for page_number, page in enumerate(pages, start=1):
        records = page.get("SpotPriceHistory") if isinstance(page, Mapping) else None
        if not isinstance(records, list):
            raise IngestError(source, f"page {page_number}", "has no SpotPriceHistory list")
        for index, record in enumerate(records):
            where = f"page {page_number}, SpotPriceHistory[{index}]"
            if not isinstance(record, Mapping):
                raise IngestError(source, where, "is not an object")
            missing = [
                k
                for k in ("AvailabilityZone", "InstanceType", "SpotPrice", "Timestamp")
                if not record.get(k)
            ]
            if missing:
                raise IngestError(source, where, f"lacks {', '.join(missing)}")
            try:
                pool = Pool.in_zone(str(record["AvailabilityZone"]), str(record["InstanceType"]))
            except ValueError as exc:
                raise IngestError(source, where, str(exc)) from exc
            columns["region"].append(pool.region)
            columns["zone"].append(pool.zone)
            columns["instance_type"].append(pool.instance_type)
            product = str(record.get("ProductDescription") or "Linux/UNIX")
            columns["product"].append(normalise_product(product))
            columns["ts"].append(_utc(record["Timestamp"], where, source))
            columns["price"].append(_price(record["SpotPrice"], where, source, "SpotPrice"))
            columns["source"].append(source)
            zone_id = record.get("AvailabilityZoneId")
            columns["zone_id"].append(str(zone_id) if zone_id else None)
    return pa.table(
        {
            **{name: pa.array(columns[name], pa.string()) for name in SPOT_PRICE_COLUMNS[:4]},
            "ts": pa.array(columns["ts"], pa.timestamp("us")),
            "price": pa.array(columns["price"], pa.float64()),
            "source": pa.array(columns["source"], pa.string()),
            "zone_id": pa.array(columns["zone_id"], pa.string()),
        }
    )


def _write_spot_prices(con: duckdb.DuckDBPyConnection, staged: str) -> dict[str, int]:
    pools = insert_new(
        con,
        "pools",
        # Distinct first: building the name for every price row first costs seconds at 10M.
        "(SELECT region || '/' || zone || '/' || instance_type AS pool, region, zone, "
        "instance_type, zone_id FROM (SELECT region, zone, instance_type, "
        f"any_value(zone_id) AS zone_id FROM {staged} GROUP BY ALL))",
        ("pool",),
        ("pool", "region", "zone", "instance_type", "zone_id"),
    )
    prices = insert_new(
        con, "spot_prices", staged, _SPOT_PRICE_KEY, SPOT_PRICE_COLUMNS, time_column="ts"
    )
    return {"pools": pools, "spot_prices": prices}


def ingest_spot_price_pages(
    history: History, pages: Iterable[Mapping[str, Any]], *, source: str
) -> IngestResult:
    """Ingest DescribeSpotPriceHistory pages; the daemon's collector and the CLI both use this."""
    table = spot_price_table(pages, source=source)
    con = history.con
    con.register("_staged_spot_prices", table)
    try:
        with transaction(con):
            inserted = _write_spot_prices(con, "_staged_spot_prices")
    finally:
        con.unregister("_staged_spot_prices")
    return IngestResult(source=source, rows_read=table.num_rows, inserted=inserted)


def read_price_pages(path: Path) -> Iterator[Mapping[str, Any]]:
    """Pages saved from boto3 or the AWS CLI: one page, a list of pages, or one page per line."""
    text = read_text(path)
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                yield load_json(line, str(path), f"line {number}")
        return
    except RecursionError as exc:
        raise IngestError(str(path), "", "is not price pages: JSON nested too deeply") from exc
    if isinstance(document, list) and all(
        isinstance(item, Mapping) and "SpotPriceHistory" not in item for item in document
    ):
        yield {"SpotPriceHistory": document}  # a bare list of records
    elif isinstance(document, list):
        yield from document
    else:
        yield document


def ingest_price_snapshot(history: History, path: Path) -> IngestResult:
    """The public archive's TSV (zone ID, type, product, $/h, time), plain or zstd-compressed.

    Its zones are zone IDs (``use1-az1``); which zone name they are is per account, so pools
    from the snapshot are named by zone ID: ``us-east-1/use1-az1/g5.xlarge``.
    """
    source = str(path)
    if not path.is_file():
        raise IngestError(source, "", "no such file")
    check_whole(path)
    con = history.con
    compression = "zstd" if path.suffix == ".zst" else "auto"
    codes = pa.table({"code": list(_REGION_CODES), "region": list(_REGION_CODES.values())})
    con.register("_region_codes", codes)
    try:
        # Staged in memory as Arrow: de-duplicating there is several times faster than in a
        # temporary table of a file-backed database.
        staged = con.sql(
            "SELECT r.region, s.zone_id AS zone, s.instance_type, "
            "regexp_replace(s.product, ' \\(Amazon VPC\\)$', '') AS product, "
            "s.ts::TIMESTAMP AS ts, s.price, $source AS source, s.zone_id "
            "FROM read_csv($path, delim='\t', header=false, auto_detect=false, quote='', "
            "compression=$compression, columns={'zone_id': 'VARCHAR', 'instance_type': 'VARCHAR', "
            "'product': 'VARCHAR', 'price': 'DOUBLE', 'ts': 'TIMESTAMPTZ'}) s "
            "LEFT JOIN _region_codes r ON r.code = split_part(s.zone_id, '-', 1)",
            params={"source": source, "path": source, "compression": compression},
        ).to_arrow_table()
    except duckdb.Error as exc:
        raise _csv_error(source, exc) from exc
    finally:
        con.unregister("_region_codes")
    con.register("_staged_snapshot", staged)
    try:
        _check_snapshot(con, source)
        with transaction(con):
            inserted = _write_spot_prices(con, "_staged_snapshot")
    finally:
        con.unregister("_staged_snapshot")
    return IngestResult(source=source, rows_read=staged.num_rows, inserted=inserted)


def _csv_error(source: str, exc: duckdb.Error) -> IngestError:
    message = str(exc)
    line = _CSV_LINE.search(message)
    if "Invalid unicode" in message:
        return IngestError(source, f"line {line.group(1)}" if line else "", "is not UTF-8 text")
    detail = [
        part.strip()
        for part in message.splitlines()
        if part.strip() and not part.startswith(("Original Line", "Conversion Error", "Invalid"))
    ]
    problem = detail[0] if detail else message.splitlines()[0]
    return IngestError(source, f"line {line.group(1)}" if line else "", problem)


def _check_snapshot(con: duckdb.DuckDBPyConnection, source: str) -> None:
    """Row-level checks the reader cannot make; the line is found only when one fails."""
    problems = {
        "the zone ID is not a known zone ID (e.g. use1-az1)": "region IS NULL",
        "a field is empty": "zone IS NULL OR instance_type IS NULL OR product IS NULL "
        "OR ts IS NULL OR price IS NULL",
        "the price must be a finite number >= 0": "NOT isfinite(price) OR price < 0",
    }
    counts = first_row(
        con,
        "SELECT "
        + ", ".join(f"count(*) FILTER (WHERE {c})" for c in problems.values())
        + " FROM _staged_snapshot",
    )
    for (problem, condition), count in zip(problems.items(), counts or (), strict=True):
        if count:
            found = first_row(
                con,
                "SELECT line, zone FROM (SELECT row_number() OVER () AS line, * "
                f"FROM _staged_snapshot) WHERE {condition} LIMIT 1",
            )
            line, zone = found if found else ("?", "?")
            raise IngestError(source, f"line {line}", f"{problem} (zone {zone!r})")


def ingest_on_demand_prices(
    history: History, path: Path, *, effective_at: datetime | None = None
) -> IngestResult:
    """On-demand list prices: ``replay-prices.json`` (accelerators → instance type and $/h, in
    the region its ``region`` key names, us-east-1 by default) or a list of
    ``{"region", "instance_type", "price", "operating_system"?, "effective_at"?}``."""
    source = str(path)
    document = load_json(read_text(path), source)
    moment = effective_at or datetime(2000, 1, 1)
    if isinstance(document, Mapping) and "accelerators" in document:
        region = str(document.get("region", "us-east-1"))
        records: list[Any] = [
            {
                "region": region,
                "instance_type": item.get("instance_type"),
                "price": item.get("on_demand"),
            }
            if isinstance(item, Mapping)
            else item
            for item in document["accelerators"].values()
        ]
        keys = [f"accelerators.{tag}" for tag in document["accelerators"]]
    elif isinstance(document, list):
        records = document
        keys = [f"[{index}]" for index in range(len(records))]
    else:
        raise IngestError(source, "", "expected replay-prices.json or a list of price records")
    rows: dict[str, list[Any]] = {
        k: [] for k in ("region", "instance_type", "operating_system", "effective_at", "price")
    }
    for where, record in zip(keys, records, strict=True):
        if (
            not isinstance(record, Mapping)
            or not record.get("region")
            or not record.get("instance_type")
        ):
            raise IngestError(source, where, "needs region, instance_type and price")
        rows["region"].append(str(record["region"]))
        rows["instance_type"].append(str(record["instance_type"]))
        rows["operating_system"].append(str(record.get("operating_system", "Linux")))
        rows["effective_at"].append(
            _utc(record["effective_at"], where, source) if record.get("effective_at") else moment
        )
        rows["price"].append(_price(record.get("price"), where, source, "price"))
    table = pa.table(
        {
            **{
                k: pa.array(rows[k], pa.string())
                for k in ("region", "instance_type", "operating_system")
            },
            "effective_at": pa.array(rows["effective_at"], pa.timestamp("us")),
            "price": pa.array(rows["price"], pa.float64()),
            "source": pa.array([source] * len(rows["price"]), pa.string()),
        }
    )
    with transaction(history.con):
        count = insert_new(
            history.con,
            "on_demand_prices",
            table,
            ("region", "instance_type", "operating_system", "effective_at"),
        )
    return IngestResult(
        source=source, rows_read=table.num_rows, inserted={"on_demand_prices": count}
    )
