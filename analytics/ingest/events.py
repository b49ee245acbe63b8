"""Interruption events into the history: from the daemon's queue consumer, or from a file of
EventBridge envelopes (a JSON list, one object, or one envelope per line).

A file is read leniently, as the queue is: an entry that is no envelope is kept raw (kind
``unparseable``, its problem in ``detail``) and reported by its line or index; the good ones
go in. A file that cannot be read at all is refused whole."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from analytics.errors import IngestError
from analytics.events import (
    EventParseError,
    InterruptionEvent,
    parse_envelope,
    unparseable_event,
)
from analytics.ingest.common import IngestResult, insert_new, read_text, transaction
from analytics.store import History

__all__ = ["ingest_events", "read_envelopes", "record_events"]

_COLUMNS = (
    "event_id",
    "kind",
    "ts",
    "region",
    "pool",
    "instance_id",
    "detail",
    "nodes_lost",
    "source",
    "raw",
    "deadline",
)


def _table(events: Iterable[InterruptionEvent]) -> pa.Table:
    rows = list(events)
    return pa.table(
        {
            "event_id": pa.array([e.event_id for e in rows], pa.string()),
            "kind": pa.array([str(e.kind) for e in rows], pa.string()),
            "ts": pa.array([e.ts for e in rows], pa.timestamp("us")),
            "region": pa.array([e.region for e in rows], pa.string()),
            "pool": pa.array([e.pool for e in rows], pa.string()),
            "instance_id": pa.array([e.instance_id for e in rows], pa.string()),
            "detail": pa.array([e.detail for e in rows], pa.string()),
            "nodes_lost": pa.array([e.nodes_lost for e in rows], pa.int32()),
            "source": pa.array([e.source for e in rows], pa.string()),
            "raw": pa.array([e.raw for e in rows], pa.string()),
            "deadline": pa.array([e.deadline for e in rows], pa.timestamp("us")),
        }
    )


def record_events(history: History, events: Iterable[InterruptionEvent]) -> int:
    """Insert events not yet recorded (by event id); an event without a pool gets the pool of
    its instance from the nodes table. Returns how many were new."""
    table = _table(events)
    if table.num_rows == 0:
        return 0
    con = history.con
    con.register("_incoming_events", table)
    try:
        enriched = (
            "(SELECT e.* REPLACE (coalesce(e.pool, n.pool) AS pool) "
            "FROM _incoming_events e LEFT JOIN nodes n USING (instance_id))"
        )
        with transaction(con):
            return insert_new(con, "interruption_events", enriched, ("event_id",), _COLUMNS)
    finally:
        con.unregister("_incoming_events")


def read_envelopes(path: Path) -> Iterator[tuple[str, str]]:
    """(where, raw message) for each envelope in the file."""
    source = str(path)
    text = read_text(path)
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            raise IngestError(source, f"line {exc.lineno}", f"is not JSON ({exc.msg})") from exc
        except RecursionError as exc:
            raise IngestError(source, "", "is not a list of envelopes: nested too deeply") from exc
        for index, item in enumerate(items):
            yield f"[{index}]", json.dumps(item)
        return
    try:
        yield "", json.dumps(json.loads(text))  # a single envelope spread over lines
        return
    except (json.JSONDecodeError, RecursionError):
        pass
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            yield f"line {number}", line


def ingest_events(
    history: History, path: Path, *, received_at: datetime | None = None
) -> IngestResult:
    """Every envelope of the file; one that is malformed is kept raw as ``unparseable`` and
    named in ``problems`` ("line 3: not JSON ..."), the rest go in."""
    source = str(path)
    moment = received_at or datetime.now(UTC).replace(tzinfo=None)
    events: list[InterruptionEvent] = []
    problems: list[str] = []
    read = skipped = 0
    for where, raw in read_envelopes(path):
        read += 1
        try:
            parsed = parse_envelope(raw)
        except EventParseError as exc:
            problems.append(f"{where}: {exc}" if where else str(exc))
            events.append(unparseable_event(raw, f"{source}, {where}: {exc}", moment))
            continue
        skipped += not parsed
        events.extend(parsed)
    inserted = record_events(history, events)
    return IngestResult(
        source=source,
        rows_read=read,
        inserted={"interruption_events": inserted},
        skipped=skipped,
        problems=tuple(problems),
    )
