"""The status page's reads of the history, each bounded (a time window, a LIMIT), and the
typed rows they return (``reconciler.api.page_view`` shows them).

Every function takes the daemon's clock as "now" (never the wall clock: the daemon may run
on a replayed market) and returns the page's typed rows, times in UTC with their zone.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from reconciler.core.history.ledger import Ledger, naive
from reconciler.core.operator_commands import OPERATOR_KINDS

__all__ = [
    "JOB_STATES",
    "DecisionRow",
    "OperatorActionRow",
    "StepSeries",
    "job_counts",
    "live_nodes_by_pool",
    "node_count_series",
    "operator_actions",
    "placement_score_series",
    "recent_decisions",
]

# The jobs table's states, in the order the page shows them; others follow by name.
JOB_STATES = ("completed", "started", "released", "failed", "dead_lettered")


@dataclass(frozen=True, slots=True)
class DecisionRow:
    decision_id: str
    ts: datetime
    mode: str
    applied: bool
    changed: bool
    desired_nodes: int | None
    reason: str
    reasons: tuple[tuple[str, str], ...]  # (pool, the planner's verdict), as recorded


@dataclass(frozen=True, slots=True)
class OperatorActionRow:
    """An operator's action as recorded: pause, cordon, drain request, floor, retrain..."""

    ts: datetime
    kind: str
    target: str | None
    detail: str  # what was done, the reason given and who asked


@dataclass(frozen=True, slots=True)
class StepSeries:
    """A value that holds until it changes: (when, value) at each change, oldest first. The
    first point may lie before the chart's window: it is the value in force when it opens."""

    label: str
    points: tuple[tuple[datetime, float], ...]


def _utc(ts: datetime) -> datetime:
    return ts.replace(tzinfo=UTC)


def live_nodes_by_pool(ledger: Ledger, fleet: str) -> dict[str, tuple[int, int]]:
    """pool -> (spot nodes, on-demand nodes) of the fleet's nodes not terminated."""
    rows = ledger._read_rows(
        "SELECT coalesce(pool, '(unknown pool)'), count(*) FILTER (WHERE lifecycle = 'spot'), "
        "count(*) FILTER (WHERE lifecycle != 'spot') FROM nodes "
        "WHERE fleet = ? AND state != 'terminated' GROUP BY ALL",
        [fleet],
    )
    return {str(pool): (int(spot), int(od)) for pool, spot, od in rows}


def recent_decisions(ledger: Ledger, fleet: str, *, limit: int = 10) -> tuple[DecisionRow, ...]:
    rows = ledger._read_rows(
        "SELECT decision_id, ts, mode, applied, changed, desired_nodes, reason, reasons "
        "FROM decisions WHERE fleet = ? ORDER BY ts DESC, decision_id LIMIT ?",
        [fleet, limit],
    )
    out = []
    for decision_id, ts, mode, applied, changed, desired, reason, reasons in rows:
        verdicts = json.loads(reasons) if reasons else {}
        out.append(
            DecisionRow(
                decision_id=str(decision_id),
                ts=_utc(ts),
                mode=str(mode),
                applied=bool(applied),
                changed=bool(changed),
                desired_nodes=None if desired is None else int(desired),
                reason=str(reason),
                reasons=tuple((str(p), str(v)) for p, v in verdicts.items()),
            )
        )
    return tuple(out)


def placement_score_series(
    ledger: Ledger,
    pools: Sequence[str],
    *,
    start: datetime,
    end: datetime,
    buckets: int = 600,
    max_points: int = 20_000,
) -> tuple[StepSeries, ...]:
    """Each pool's spot placement score (1-10) from ``start`` to ``end``, as change points: the
    score in force at ``start`` (looked for one window further back), then each change. Where
    several requests were scored in a pool, the one for the most nodes counts (as
    ``fleet_signals`` reads it); a score whose zone is not yet named is left out, as there.
    A long window is cut into ``buckets`` slices, each showing its lowest score from its first
    collection (a dip is what matters), so a month costs no more points than a day."""
    carry_from = start - (end - start)
    bucket_s = max((end - start).total_seconds() / buckets, 1.0)
    rows = ledger._read_rows(
        """
        WITH p AS (SELECT ?::TIMESTAMP AS t0, ?::DOUBLE AS bucket_s),
        scored AS (
            SELECT region || '/' || zone || '/' || instance_type AS pool, ts, score,
                   target_capacity,
                   max(target_capacity) OVER (PARTITION BY region, zone, instance_type) AS widest
            FROM placement_scores
            WHERE zone IS NOT NULL
              AND list_contains(?, region || '/' || zone || '/' || instance_type)
              AND ts > ? AND ts <= ?
        ),
        obs AS (
            SELECT pool, ts, min(score) AS value FROM scored WHERE target_capacity = widest
            GROUP BY pool, ts
        ),
        opening AS (
            SELECT pool, max(ts) AS ts, arg_max(value, ts) AS value
            FROM obs, p WHERE ts <= t0 GROUP BY pool
        ),
        inside AS (
            SELECT pool, min(ts) AS ts, min(value) AS value FROM obs, p WHERE ts > t0
            GROUP BY pool, floor((epoch(ts) - epoch(t0)) / bucket_s)
        ),
        changes AS (
            SELECT pool, ts, value, lag(value) OVER (PARTITION BY pool ORDER BY ts) AS before
            FROM (SELECT * FROM opening UNION ALL SELECT * FROM inside)
        )
        SELECT pool, ts, value FROM changes
        WHERE before IS NULL OR before != value ORDER BY pool, ts LIMIT ?
        """,
        [naive(start), bucket_s, list(pools), naive(carry_from), naive(end), max_points],
    )
    points: dict[str, list[tuple[datetime, float]]] = {}
    for pool, ts, value in rows:
        points.setdefault(str(pool), []).append((_utc(ts), float(value)))
    return tuple(StepSeries(pool, tuple(points[pool])) for pool in pools if pool in points)


def node_count_series(
    ledger: Ledger, fleet: str, *, start: datetime, end: datetime, max_points: int = 5_000
) -> StepSeries:
    """How many of the fleet's nodes were up, from ``start`` to ``end``: +1 at each launch,
    -1 at each termination, summed; the first point is the count at ``start``."""
    rows = ledger._read_rows(
        """
        WITH p AS (SELECT ?::VARCHAR AS fleet, ?::TIMESTAMP AS t0, ?::TIMESTAMP AS t1),
        events AS (
            SELECT launched_at AS ts, 1 AS delta FROM nodes, p
            WHERE nodes.fleet = p.fleet AND launched_at IS NOT NULL AND launched_at <= p.t1
            UNION ALL
            SELECT terminated_at, -1 FROM nodes, p
            WHERE nodes.fleet = p.fleet AND launched_at IS NOT NULL AND terminated_at <= p.t1
        ),
        running AS (
            SELECT ts, sum(sum(delta)) OVER (ORDER BY ts) AS up FROM events GROUP BY ts
        )
        SELECT t0, coalesce((SELECT last(up ORDER BY ts) FROM running WHERE ts <= t0), 0)
        FROM p
        UNION ALL
        (SELECT ts, up FROM running, p WHERE ts > t0 ORDER BY ts LIMIT ?)
        ORDER BY 1
        """,
        [fleet, naive(start), naive(end), max_points],
    )
    return StepSeries("fleet nodes", tuple((_utc(ts), float(up)) for ts, up in rows))


def job_counts(ledger: Ledger, fleet: str) -> tuple[tuple[str, int], ...]:
    """Jobs by state. A job whose events named no fleet counts for every fleet, as the scaler
    counts it (``Ledger.seconds_per_job``): with one fleet, the usual case, it is that one's."""
    rows = ledger._read_rows(
        "SELECT state, count(*) FROM jobs WHERE fleet = ? OR fleet IS NULL GROUP BY state",
        [fleet],
    )
    counts = {str(state): int(n) for state, n in rows}
    known = [(state, counts.pop(state, 0)) for state in JOB_STATES]
    return (*known, *sorted(counts.items()))


def operator_actions(
    ledger: Ledger, fleet: str, *, limit: int = 10
) -> tuple[OperatorActionRow, ...]:
    """The latest operator actions on the fleet (and retrains, which are every fleet's)."""
    rows = ledger._read_rows(
        "SELECT ts, kind, target, detail FROM fleet_actions "
        "WHERE list_contains(?, kind) AND (fleet = ? OR fleet = '*') "
        "ORDER BY ts DESC, action_id LIMIT ?",
        [list(OPERATOR_KINDS), fleet, limit],
    )
    return tuple(
        OperatorActionRow(_utc(ts), str(kind), target, str(detail or ""))
        for ts, kind, target, detail in rows
    )
