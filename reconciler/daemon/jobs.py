"""The schedule's table: each job of a daemon, its cadence and when it first runs.

Collectors run at once; deciding a little later, once the first collection is in the
history; the stack sync, retrain and export after a full cadence.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reconciler.daemon.daily_signals import daily_signal_jobs
from reconciler.daemon.health import heartbeat
from reconciler.daemon.schedule import ScheduledJob

if TYPE_CHECKING:
    from reconciler.daemon.daemon import Daemon

__all__ = ["SETTLE_S", "ScheduledJob", "jobs_of"]

SETTLE_S = 15.0  # the first reconcile waits this long for the first collection (at most)


def jobs_of(d: Daemon) -> list[ScheduledJob]:
    c = d.settings.cadences
    jobs = [
        ScheduledJob("prices", d.collect_prices, c.prices_s, 0.0),
        ScheduledJob("interruptions", d.consume_interruptions, c.interruptions_s, 0.0),
        ScheduledJob("job_events", d.consume_job_events, c.job_events_s, 0.0),
        ScheduledJob("fleet", d.observe_fleet, c.fleet_s, 0.0),
        ScheduledJob("reconcile", d.reconcile, c.reconcile_s, min(SETTLE_S, c.reconcile_s)),
        ScheduledJob("stack_sync", d.sync_stack, c.stack_sync_s, c.stack_sync_s),
        ScheduledJob("retrain", d.retrain, c.retrain_s, c.retrain_s),
        ScheduledJob("export", d.export, c.export_s, c.export_s),
        ScheduledJob("history", lambda: heartbeat(d.ledger, d.clock()), c.history_s, 0.0),
    ]
    jobs += daily_signal_jobs(d.settings, d.ledger, d.clients, d.clock, d.sleep)
    if d.settings.placement_scores:
        jobs.append(
            ScheduledJob("placement_scores", d.collect_placement_scores, c.placement_scores_s, 0.0)
        )
    return jobs
