"""The daemon's reads and writes of the history, behind one lock.

The history is one DuckDB connection and the daemon is its single writer, but the
schedule's jobs and the status API run on different threads: every write goes through
``Ledger.lock``; long reads take a cursor of their own (``reader``) and no lock.
The SQL stays in this package: ``_con``, ``_rows`` and ``_read_rows`` are for its modules (the
named reads and writes beside this one); everyone else calls those by name, or hands
``analytics``' ingest the history through ``writing``.
Decisions, actions and the daemon's own state (what it applied, its breakers) are
written here, so a restart reads them back instead of trusting memory.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb
import pyarrow as pa

from analytics.store import History, first_row
from reconciler.core.reactions import LOST_STATES, STALE_AFTER, UNTIL_DEADLINE

__all__ = ["WARNED_KINDS", "ActionRecord", "DecisionRecord", "Ledger", "LiveNode", "naive"]

# Instance and group lifecycle states of a node that still serves (or is about to).
_LIVE = "'pending', 'running', 'InService', 'Pending', 'Pending:Wait', 'Pending:Proceed'"


def naive(ts: datetime) -> datetime:
    """The history stores UTC without a zone."""
    return ts.astimezone(UTC).replace(tzinfo=None) if ts.tzinfo else ts


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    decision_id: str
    ts: datetime
    fleet: str
    mode: str
    placement: dict[str, Any] | None
    desired_nodes: int | None
    changed: bool
    applied: bool
    reason: str
    reasons: dict[str, str]


@dataclass(frozen=True, slots=True)
class ActionRecord:
    action_id: str
    decision_id: str | None
    ts: datetime
    fleet: str
    kind: str  # 'stack_update', 'set_desired', 'launch', 'drain', 'mark_risky', ...
    target: str | None
    status: str  # 'planned', 'applied', 'skipped', 'failed'
    detail: str | None
    nodes_rolled: int | None = None


# Events after which AWS takes the instance, until their deadline (reactions.py's rules): the
# node is planned without, drained, and replaced elsewhere at once.
WARNED_KINDS = tuple(sorted(k.value for k in UNTIL_DEADLINE))


@dataclass(frozen=True, slots=True)
class LiveNode:
    instance_id: str
    pool: str | None
    lifecycle: str  # 'spot' or 'on-demand'
    launched_at: datetime | None
    warned: bool


class Ledger:
    def __init__(self, history: History) -> None:
        self.history = history
        self.lock = threading.RLock()

    @contextmanager
    def _con(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The connection, under the lock: for the history layer's own statements only."""
        with self.lock:
            yield self.history.con

    @contextmanager
    def writing(self) -> Iterator[History]:
        """The history, under the lock, for ``analytics``' ingest functions (which own their
        SQL): the daemon's other writers wait while one of them runs."""
        with self.lock:
            yield self.history

    @contextmanager
    def reader(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor of its own for a long read (the market for a decision, the API's lists):
        DuckDB reads it concurrently with the writers, so it does not take the lock."""
        with self.lock:
            cursor = self.history.con.cursor()
        try:
            yield cursor
        finally:
            cursor.close()

    def _read_rows(self, sql: str, params: Sequence[object] | None = None) -> list[tuple[Any, ...]]:
        """A read on a cursor of its own (no lock), for the history layer's named reads."""
        with self.reader() as cursor:
            return cursor.execute(sql, params).fetchall()

    def _rows(self, sql: str, params: Sequence[object] | None = None) -> list[tuple[Any, ...]]:
        """A statement under the lock, for the history layer's named reads and writes."""
        with self._con() as con:
            return con.execute(sql, params).fetchall()

    # -- the daemon's own state -------------------------------------------------------------
    def get_state(self, key: str) -> Any:
        with self._con() as con:
            row = first_row(con, "SELECT value FROM daemon_state WHERE key = ?", [key])
        return json.loads(row[0]) if row else None

    def set_state(self, key: str, value: Any, now: datetime) -> None:
        with self._con() as con:
            con.execute(
                "INSERT OR REPLACE INTO daemon_state VALUES (?, ?, ?)",
                [key, json.dumps(value), naive(now)],
            )

    # -- decisions and actions --------------------------------------------------------------
    def record_decision(self, d: DecisionRecord) -> None:
        with self._con() as con:
            con.execute(
                "INSERT OR REPLACE INTO decisions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    d.decision_id,
                    naive(d.ts),
                    d.fleet,
                    d.mode,
                    None if d.placement is None else json.dumps(d.placement),
                    d.desired_nodes,
                    d.changed,
                    d.applied,
                    d.reason,
                    json.dumps(d.reasons),
                ],
            )

    def record_action(self, a: ActionRecord) -> None:
        with self._con() as con:
            con.execute(
                "INSERT OR REPLACE INTO fleet_actions "
                "(action_id, decision_id, ts, fleet, kind, target, status, detail, nodes_rolled) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    a.action_id,
                    a.decision_id,
                    naive(a.ts),
                    a.fleet,
                    a.kind,
                    a.target,
                    a.status,
                    a.detail,
                    a.nodes_rolled,
                ],
            )

    def note(
        self,
        kind: str,
        *,
        fleet: str,
        now: datetime,
        status: str,
        target: str | None = None,
        detail: str | None = None,
    ) -> ActionRecord:
        """Record an action that belongs to no decision (mode, breaker, reactions, scaling)."""
        record = ActionRecord(
            f"{kind}-{uuid.uuid4().hex[:12]}", None, now, fleet, kind, target, status, detail
        )
        self.record_action(record)
        return record

    def record_predictions(
        self, rows: Sequence[tuple[str, datetime, int, float, str, str]]
    ) -> None:
        if not rows:
            return
        # One Arrow batch, not executemany: 500 pools a cycle would cost a second row by row.
        table = pa.table(
            {
                "pool": [r[0] for r in rows],
                "ts": pa.array([naive(r[1]) for r in rows], pa.timestamp("us")),
                "horizon_s": pa.array([r[2] for r in rows], pa.int32()),
                "probability": [r[3] for r in rows],
                "model_id": [r[4] for r in rows],
                "basis": [r[5] for r in rows],
            }
        )
        with self._con() as con:
            con.register("_incoming_predictions", table)
            try:
                con.execute(
                    "INSERT OR REPLACE INTO predictions SELECT * FROM _incoming_predictions"
                )
            finally:
                con.unregister("_incoming_predictions")

    # -- what safety and scaling read -------------------------------------------------------
    def freshest_market(self, pools: Sequence[str], since: datetime) -> datetime | None:
        """When a collector last observed any of ``pools`` after ``since``: a placement score,
        or the price collector's run (its ``capacity_observations`` row, where it writes one).
        None: nothing since then (a reconcile asks about its lookback only: the whole history
        of 500 pools took most of a second to scan)."""
        rows = self._rows(
            "SELECT max(ts) FROM (SELECT ts FROM capacity_observations "
            "WHERE ts > ? AND pool IN (SELECT unnest(?)) UNION ALL SELECT ts FROM placement_scores "
            "WHERE ts > ? AND region || '/' || zone || '/' || instance_type IN (SELECT unnest(?)))",
            [naive(since), list(pools), naive(since), list(pools)],
        )
        value = rows[0][0]
        return value.replace(tzinfo=UTC) if isinstance(value, datetime) else None

    def marks(self, since: datetime) -> list[tuple[str, str, datetime]]:
        """Warnings and rebalance recommendations about our pools since ``since``."""
        rows = self._rows(
            "SELECT pool, kind, ts FROM interruption_events WHERE pool IS NOT NULL AND ts > ? "
            "AND kind IN ('spot_interruption_warning', 'rebalance_recommendation') ORDER BY ts",
            [naive(since)],
        )
        return [(str(p), str(k), ts.replace(tzinfo=UTC)) for p, k, ts in rows]

    def seconds_per_job(self, fleet: str, since: datetime) -> float | None:
        rows = self._rows(
            "SELECT avg(seconds) FROM jobs WHERE state = 'completed' AND seconds > 0 "
            "AND (fleet = ? OR fleet IS NULL) AND finished_at > ?",
            [fleet, naive(since)],
        )
        return float(rows[0][0]) if rows[0][0] is not None else None

    def live_nodes(
        self,
        fleet: str,
        *,
        warned_since: datetime,
        now: datetime | None = None,
        grace_s: float = 0.0,
    ) -> list[LiveNode]:
        """The fleet's live nodes; ``warned``: AWS said it goes (a warning, a reservation's
        interruption, a scheduled change or a state change to stopping... since
        ``warned_since``, whose deadline, plus ``grace_s``, has not passed at ``now``)."""
        at = naive(now) if now is not None else None
        rows = self._rows(
            "SELECT n.instance_id, n.pool, n.lifecycle, n.launched_at, EXISTS ("
            "  SELECT 1 FROM interruption_events e WHERE e.instance_id = n.instance_id"
            "  AND e.ts > ? AND ("
            "    (e.kind IN (SELECT unnest(?)) AND (CAST(? AS TIMESTAMP) IS NULL"
            "      OR coalesce(e.deadline, e.ts + INTERVAL 2 MINUTE)"
            "         + to_seconds(CAST(? AS DOUBLE)) > CAST(? AS TIMESTAMP)))"
            "    OR (e.kind = 'instance_state_change' AND lower(e.detail) IN (SELECT unnest(?))"
            "      AND (CAST(? AS TIMESTAMP) IS NULL OR e.ts + to_seconds(CAST(? AS DOUBLE))"
            "         + to_seconds(CAST(? AS DOUBLE)) > CAST(? AS TIMESTAMP))))) "
            "FROM nodes n WHERE n.fleet = ? AND n.state IN (" + _LIVE + ") "
            "ORDER BY n.instance_id",
            [
                naive(warned_since), list(WARNED_KINDS), at, grace_s, at,
                sorted(LOST_STATES), at, STALE_AFTER.total_seconds(), grace_s, at, fleet,
            ],
        )  # fmt: skip
        return [
            LiveNode(
                str(i), p, str(lc), ts.replace(tzinfo=UTC) if ts is not None else None, bool(w)
            )
            for i, p, lc, ts, w in rows
        ]

    def fleets_of(self, instance_ids: set[str]) -> dict[str, str]:
        """instance id -> the fleet that runs it, for the ids that are some fleet's nodes."""
        rows = self._rows(
            "SELECT instance_id, fleet FROM nodes WHERE list_contains(?, instance_id)",
            [sorted(instance_ids)],
        )
        return {str(i): str(f) for i, f in rows}

    def drained_since(self, fleet: str, since: datetime) -> int:
        """Serving spot nodes drained to optimise (moves, surplus) since ``since``."""
        rows = self._rows(
            "SELECT coalesce(sum(nodes_rolled), 0) FROM fleet_actions "
            "WHERE fleet = ? AND kind = 'drain' AND status = 'applied' AND ts > ?",
            [fleet, naive(since)],
        )
        return int(rows[0][0])

    def unavailable_pools(self, fleet: str, since: datetime, ttl_s: float) -> dict[str, float]:
        """Pools that refused a launch since ``since``: pool -> until (epoch seconds). Every
        fleet's refusals count: a pool without capacity has none for any fleet."""
        rows = self._rows(
            "SELECT target, max(ts) FROM fleet_actions WHERE kind = 'launch_failed' "
            "AND ts > ? AND target != 'on-demand' GROUP BY target",
            [naive(since)],
        )
        return {str(p): ts.replace(tzinfo=UTC).timestamp() + ttl_s for p, ts in rows}

    def fail_planned(self, kind: str, detail: str) -> int:
        """Mark actions of ``kind`` left ``planned`` (by a crash) failed; how many there were."""
        with self._con() as con:
            rows = con.execute(
                "UPDATE fleet_actions SET status = 'failed', detail = ? "
                "WHERE kind = ? AND status = 'planned' RETURNING action_id",
                [detail, kind],
            ).fetchall()
        return len(rows)
