"""Spot capacity traces (the public "spot-traces" format) → capacity observations per pool and
tick, plus the interruption events they imply: a pool's capacity dropping while held.

One folder is one collection: ``<zone>_<accelerator tag>.json`` per pool, all sampled every
``gap_seconds``. The collection's start is read from its folder name (``aws-02-15-2023``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from analytics.errors import IngestError
from analytics.ingest.common import IngestResult, insert_new, load_json, read_text, transaction
from analytics.pools import Pool
from analytics.store import History

__all__ = [
    "TRACE_INSTANCE_TYPES",
    "Trace",
    "collection_name",
    "collection_start",
    "ingest_capacity",
    "ingest_traces",
    "read_trace",
    "trace_files",
]

# The accelerator tags of the spot-traces collection and the instance types they stand for.
TRACE_INSTANCE_TYPES = {
    "v100_1": "p3.2xlarge",
    "v100_8": "p3.16xlarge",
    "k80_1": "p2.xlarge",
    "k80_8": "p2.8xlarge",
    "intel_64": "r5.16xlarge",
}

_FOLDER_DATE = re.compile(r"(\d{2})-(\d{2})-(\d{4})$")


@dataclass(frozen=True, slots=True)
class Trace:
    """One pool's capacity series, as recorded."""

    pool: Pool
    accelerator: str
    gap_seconds: int
    capacity: np.ndarray  # int32, one value per tick


def trace_files(folder: Path) -> list[Path]:
    """The pool files of one collection, ordered by name (REPLAY.md's pool order)."""
    if not folder.is_dir():
        raise IngestError(str(folder), "", "is not a folder of trace files")
    files = sorted(folder.glob("*.json"), key=lambda p: p.stem)
    if not files:
        raise IngestError(str(folder), "", "holds no *.json trace files")
    return files


def collection_name(folder: Path) -> str:
    """``availability/1-node/aws-02-15-2023`` for a folder inside a spot-traces tree."""
    parts = folder.resolve().parts
    if "spot-traces" in parts:
        return "/".join(parts[parts.index("spot-traces") + 1 :])
    return folder.name


def collection_start(folder: Path) -> datetime:
    match = _FOLDER_DATE.search(folder.name)
    if not match:
        raise IngestError(
            str(folder),
            "",
            "cannot tell when this collection starts: its folder name does not end in "
            "MM-DD-YYYY (like aws-02-15-2023); pass the start explicitly (--start 2023-02-15)",
        )
    month, day, year = (int(g) for g in match.groups())
    return datetime(year, month, day)


def read_trace(path: Path) -> Trace:
    """Read and check one trace file; refuses it naming the key that is wrong."""
    source = str(path)
    zone, sep, tag = path.stem.partition("_")
    if not sep or not tag:
        raise IngestError(
            source, "file name", "expected <zone>_<accelerator>.json, e.g. us-west-2a_v100_1.json"
        )
    document: Any = load_json(read_text(path), source)
    if not isinstance(document, dict):
        raise IngestError(source, "", "expected an object with metadata and data")
    metadata = document.get("metadata")
    gap = metadata.get("gap_seconds") if isinstance(metadata, dict) else None
    if not isinstance(gap, int) or isinstance(gap, bool) or gap <= 0:
        raise IngestError(
            source, "metadata.gap_seconds", f"must be a positive integer, got {gap!r}"
        )
    data = document.get("data")
    if not isinstance(data, list) or not data:
        raise IngestError(source, "data", "must be a non-empty list of capacities")
    for index, value in enumerate(data):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise IngestError(source, f"data[{index}]", f"must be an integer >= 0, got {value!r}")
    try:
        pool = Pool.in_zone(zone, TRACE_INSTANCE_TYPES.get(tag, tag))
    except ValueError as exc:
        raise IngestError(source, "file name", str(exc)) from exc
    return Trace(pool, tag, gap, np.asarray(data, dtype=np.int32))


def _event_id(source: str, pool: Pool, tick: int) -> str:
    return "trace-" + hashlib.sha256(f"{source}|{pool}|{tick}".encode()).hexdigest()[:32]


def ingest_traces(
    history: History,
    folder: Path,
    *,
    start: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> IngestResult:
    """Ingest one collection folder. Every file is read and checked before anything is written."""
    files = trace_files(folder)
    traces = []
    for done, path in enumerate(files, start=1):
        traces.append(read_trace(path))
        if progress:
            progress(done, len(files))
    begin = start or collection_start(folder)
    return ingest_capacity(history, traces, begin=begin, source=collection_name(folder))


def ingest_capacity(
    history: History,
    traces: Sequence[Trace],
    *,
    begin: datetime,
    source: str,
    first_tick: int = 0,
) -> IngestResult:
    """Capacity series as observations, one per pool and tick, and the losses they imply.

    ``trace.capacity[i]`` is tick ``first_tick + i`` (tick 0 at ``begin``): a market played
    tick by tick passes the last two ticks each time, and what was recorded stays recorded
    (observations by pool and time, losses by a stable id).
    """
    pools = {
        "pool": [str(t.pool) for t in traces],
        "region": [t.pool.region for t in traces],
        "zone": [t.pool.zone for t in traces],
        "instance_type": [t.pool.instance_type for t in traces],
        "accelerator": [t.accelerator for t in traces],
    }
    observations = pa.concat_tables([_observations(t, begin, source, first_tick) for t in traces])
    events = pa.concat_tables([_implied_events(t, begin, source, first_tick) for t in traces])
    con = history.con
    with transaction(con):
        inserted = {
            "pools": insert_new(con, "pools", pa.table(pools), ("pool",)),
            "capacity_observations": insert_new(
                con, "capacity_observations", observations, ("pool", "ts"), time_column="ts"
            ),
            "interruption_events": insert_new(con, "interruption_events", events, ("event_id",)),
        }
    return IngestResult(source=source, rows_read=observations.num_rows, inserted=inserted)


def _ticks(trace: Trace, begin: datetime, ticks: np.ndarray) -> pa.Array:
    base = np.datetime64(begin, "us")
    return pa.array(base + ticks.astype("timedelta64[s]") * trace.gap_seconds)


def _observations(trace: Trace, begin: datetime, source: str, first_tick: int) -> pa.Table:
    n = len(trace.capacity)
    return pa.table(
        {
            "pool": pa.array([str(trace.pool)] * n, pa.string()),
            "ts": _ticks(trace, begin, first_tick + np.arange(n)),
            "capacity": pa.array(trace.capacity, pa.int32()),
            "interval_s": pa.array(np.full(n, trace.gap_seconds, dtype=np.int32)),
            "source": pa.array([source] * n, pa.string()),
        }
    )


def _implied_events(trace: Trace, begin: datetime, source: str, first_tick: int) -> pa.Table:
    drops = np.flatnonzero(np.diff(trace.capacity) < 0) + 1
    lost = trace.capacity[drops - 1] - trace.capacity[drops]
    ticks = drops + first_tick
    pool = str(trace.pool)
    count = len(drops)
    return pa.table(
        {
            "event_id": pa.array(
                [_event_id(source, trace.pool, int(t)) for t in ticks], pa.string()
            ),
            "kind": pa.array(["capacity_loss"] * count, pa.string()),
            "ts": _ticks(trace, begin, ticks),
            "region": pa.array([trace.pool.region] * count, pa.string()),
            "pool": pa.array([pool] * count, pa.string()),
            "nodes_lost": pa.array(lost, pa.int32()),
            "source": pa.array([f"trace:{source}"] * count, pa.string()),
        }
    )
