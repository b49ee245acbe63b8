"""One export snapshot, wherever it goes: its tables as Parquet, its manifest, its id, and
which snapshots retention keeps. ``analytics.export`` puts it in a folder,
``analytics.export_s3`` on S3; both follow the same rule (see ``analytics.export``)."""

from __future__ import annotations

import json
import os
import signal
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from analytics.errors import AnalyticsError
from analytics.store import migrations

__all__ = [
    "LATEST",
    "MANIFEST",
    "PARTITION_COLUMNS",
    "SNAPSHOTS",
    "Manifest",
    "Steps",
    "empty_history",
    "history_tables",
    "new_snapshot_id",
    "snapshots_to_sweep",
    "write_tables",
]

# The time each table is partitioned by; tables not named here are written unpartitioned.
PARTITION_COLUMNS = {
    "spot_prices": "ts",
    "on_demand_prices": "effective_at",
    "capacity_observations": "ts",
    "placement_scores": "ts",
    "interruption_events": "ts",
    "predictions": "ts",
    "decisions": "ts",
    "fleet_actions": "ts",
    "nodes": "coalesce(launched_at, observed_at)",
    "jobs": "coalesce(submitted_at, started_at, updated_at)",
}
LATEST = "_latest.json"
MANIFEST = "_manifest.json"
SNAPSHOTS = ".snapshots"
# For the crash tests only: SIGKILL this process after that many steps of an export.
_KILL_AFTER_STEPS = "SPOTFLEET_EXPORT_KILL_AFTER_STEPS"


class Steps:
    """Counts an export's steps; the crash tests kill the process after any one of them."""

    def __init__(self) -> None:
        limit = os.environ.get(_KILL_AFTER_STEPS)
        self.limit = int(limit) if limit else None
        self.done = 0

    def __call__(self) -> None:
        self.done += 1
        if self.limit is not None and self.done >= self.limit:
            os.kill(os.getpid(), signal.SIGKILL)


@dataclass(frozen=True, slots=True)
class Manifest:
    """What ``_manifest.json`` and ``_latest.json`` hold: which snapshot, and its rows."""

    snapshot: str
    schema_version: int
    tables: dict[str, int]

    def to_json(self) -> str:
        fields = {"snapshot": self.snapshot, "schema_version": self.schema_version}
        return json.dumps({**fields, "tables": self.tables}, indent=2)

    @classmethod
    def from_json(cls, text: str | bytes, where: str) -> Manifest:
        try:
            raw: Any = json.loads(text)
            return cls(
                snapshot=str(raw["snapshot"]),
                schema_version=int(raw["schema_version"]),
                tables={str(t): int(n) for t, n in raw["tables"].items()},
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise AnalyticsError(f"{where} is not an export pointer ({exc!r})") from exc


def new_snapshot_id() -> str:
    """Sortable by time, unique across writers."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f") + "-" + uuid.uuid4().hex[:8]


def history_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = 'main' AND table_type = 'BASE TABLE' "
        "AND table_name <> 'schema_version' ORDER BY table_name"
    ).fetchall()
    return [r[0] for r in rows]


def empty_history() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the current schema and no rows: what a reader of an export
    replaces table by table with views over the snapshot's files."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for migration in migrations():
        con.execute(migration.sql)
    return con


def write_tables(
    con: duckdb.DuckDBPyConnection, snapshot: Path, written_one: Callable[[str], None]
) -> dict[str, int]:
    """Every table into ``snapshot/<table>/``: by ``day=`` where it has a time, else one file;
    ``written_one(table)`` runs after each."""
    written = {}
    for table in history_tables(con):
        target = snapshot / table
        target.mkdir(parents=True)
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
        written_one(table)
    return written


def snapshots_to_sweep(
    snapshots: Iterable[str], complete: Iterable[str], named: Iterable[str]
) -> list[str]:
    """The snapshots retention deletes: all but those a pointer names and the newest complete
    one before them (readers may still be in it). One without a manifest is an export killed
    part-way, and goes. Nothing is swept while no pointer names a complete snapshot."""
    done, pointed = set(complete), set(named)
    live = sorted(done & pointed)
    if not live:
        return []
    older = sorted(s for s in done if s < live[-1] and s not in pointed)
    keep = pointed | set(older[-1:])
    return [s for s in sorted(snapshots) if s not in keep]
