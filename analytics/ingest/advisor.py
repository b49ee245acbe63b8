"""The AWS Spot Instance Advisor file: savings and interruption band per region, OS and type.

Advisor data is restated, not appended: a newer file replaces the band of every
(region, OS, type) it names.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

from analytics.errors import IngestError
from analytics.ingest.common import IngestResult, load_json, read_text, transaction, upsert
from analytics.store import History

__all__ = ["advisor_table", "ingest_advisor"]


def advisor_table(document: Any, *, source: str) -> pa.Table:
    if not isinstance(document, dict):
        raise IngestError(source, "", "expected an object with 'ranges' and 'spot_advisor'")
    ranges = document.get("ranges")
    if not isinstance(ranges, list) or not ranges:
        raise IngestError(source, "ranges", "must be a non-empty list of interruption bands")
    bands: dict[int, tuple[str, int]] = {}
    for position, band in enumerate(ranges):
        if not isinstance(band, dict) or not isinstance(band.get("index"), int):
            raise IngestError(
                source, f"ranges[{position}]", "needs an integer index, label and max"
            )
        bands[band["index"]] = (str(band.get("label", "")), int(band.get("max", 0)))
    regions = document.get("spot_advisor")
    if not isinstance(regions, dict):
        raise IngestError(source, "spot_advisor", "must map region → OS → instance type")
    rows: dict[str, list[Any]] = {
        k: []
        for k in (
            "region",
            "operating_system",
            "instance_type",
            "savings_pct",
            "band",
            "band_label",
            "band_max_pct",
        )
    }
    for region, systems in regions.items():
        if not isinstance(systems, dict):
            raise IngestError(source, f"spot_advisor.{region}", "must map OS → instance type")
        for system, types in systems.items():
            if not isinstance(types, dict):
                raise IngestError(source, f"spot_advisor.{region}.{system}", "must map types")
            for instance_type, entry in types.items():
                key = f"spot_advisor.{region}.{system}.{instance_type}"
                if not isinstance(entry, dict):
                    raise IngestError(source, key, "expected {'s': savings, 'r': band}")
                savings, band = entry.get("s"), entry.get("r")
                # Negative savings are real: spot above on-demand in a tight market.
                if not isinstance(savings, int) or isinstance(savings, bool) or savings > 100:
                    raise IngestError(
                        source, f"{key}.s", f"savings must be a percent <= 100, got {savings!r}"
                    )
                if band not in bands:
                    raise IngestError(source, f"{key}.r", f"band {band!r} is not in ranges")
                label, band_max = bands[band]
                for column, value in zip(
                    rows,
                    (region, system, instance_type, savings, band, label, band_max),
                    strict=True,
                ):
                    rows[column].append(value)
    table = pa.table(rows)
    return table.append_column("source", pa.array([source] * table.num_rows, pa.string()))


def ingest_advisor(history: History, path: Path) -> IngestResult:
    source = str(path)
    document = load_json(read_text(path), source)
    table = advisor_table(document, source=source)
    with transaction(history.con):
        before = _count(history)
        upsert(history.con, "advisor_bands", table)
        added = _count(history) - before
    return IngestResult(source=source, rows_read=table.num_rows, inserted={"advisor_bands": added})


def _count(history: History) -> int:
    rows = history.con.execute("SELECT count(*) FROM advisor_bands").fetchall()
    return int(rows[0][0])
