"""The ``jobs`` table: the job-event collector's upsert, and how many jobs completed.

Events may arrive out of order: a row keeps the newest state by event time, and fills the
times and numbers that any event gave.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from reconciler.core.history.ledger import Ledger, naive

__all__ = ["JobUpdate", "completed_jobs", "record_job_update"]


@dataclass(frozen=True, slots=True)
class JobUpdate:
    """What one job event says about its job; ``updated_at`` is the event's own time."""

    job_id: str
    state: str  # 'started', 'completed', 'failed', 'released', 'dead_lettered'
    updated_at: datetime
    fleet: str | None = None
    instance_id: str | None = None
    pool: str | None = None
    model: str | None = None
    submitted_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    seconds: float | None = None
    attempts: int = 1
    error: str | None = None


_UPSERT = """
INSERT INTO jobs (job_id, fleet, state, instance_id, pool, model, submitted_at, started_at,
                  finished_at, seconds, attempts, error, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (job_id) DO UPDATE SET
    state = CASE WHEN excluded.updated_at >= jobs.updated_at
                 THEN excluded.state ELSE jobs.state END,
    fleet = coalesce(excluded.fleet, jobs.fleet),
    instance_id = CASE WHEN excluded.updated_at >= jobs.updated_at
                       THEN coalesce(excluded.instance_id, jobs.instance_id)
                       ELSE jobs.instance_id END,
    pool = coalesce(excluded.pool, jobs.pool),
    model = coalesce(excluded.model, jobs.model),
    submitted_at = coalesce(jobs.submitted_at, excluded.submitted_at),
    started_at = coalesce(excluded.started_at, jobs.started_at),
    finished_at = coalesce(excluded.finished_at, jobs.finished_at),
    seconds = coalesce(excluded.seconds, jobs.seconds),
    attempts = greatest(excluded.attempts, jobs.attempts),
    error = coalesce(excluded.error, jobs.error),
    updated_at = greatest(excluded.updated_at, jobs.updated_at)
"""


def _t(ts: datetime | None) -> datetime | None:
    return None if ts is None else naive(ts)


def record_job_update(ledger: Ledger, u: JobUpdate) -> None:
    with ledger._con() as con:
        con.execute(
            _UPSERT,
            [
                u.job_id,
                u.fleet,
                u.state,
                u.instance_id,
                u.pool,
                u.model,
                _t(u.submitted_at),
                _t(u.started_at),
                _t(u.finished_at),
                u.seconds,
                u.attempts,
                u.error,
                naive(u.updated_at),
            ],
        )


def completed_jobs(ledger: Ledger) -> int:
    """How many jobs the history holds as completed (every fleet's)."""
    rows = ledger._read_rows("SELECT count(*) FROM jobs WHERE state = 'completed'")
    return int(rows[0][0])
