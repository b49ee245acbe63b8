"""The embedded default's end-of-run summary: what was played, served, cost and lost, beside the
backtest of the same window."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from analytics.queries import run_canned
from reconciler.collect.fleet import read_backlog
from reconciler.core.history.ledger import Ledger
from reconciler.core.history.run_reads import decision_counts, warned_node_count
from reconciler.core.settings import FleetTarget
from reconciler.embedded.audit import JobAudit, audit_jobs, dead_letters, result_ids
from reconciler.embedded.local_aws import FleetEndpoints, LocalAws
from reconciler.embedded.parity import Replayed, replay_demo_window
from reconciler.embedded.settings import DemoSettings
from reconciler.embedded.world import World

__all__ = ["DemoSummary", "summarise", "summarise_run", "typical_k"]


@dataclass
class DemoSummary:
    duration_s: float
    market_start: str
    market_end: str
    market_hours: float
    stopped_early: bool
    jobs_submitted: int
    jobs_completed: int
    jobs_dead_lettered: int
    jobs_lost: int
    jobs_pending: int
    malformed_jobs: int
    malformed_dead_lettered_with_reason: int
    valid_jobs_dead_lettered: int
    preemptions: int
    interruption_events: int
    nodes_launched: int
    launch_failures: int
    late_node_starts: int  # launches whose node process had not loaded its model yet
    decisions: int
    decisions_applied: int
    decisions_without_reason: int
    mean_ready_fraction: float
    spot_cost_usd: float  # the history's (`query savings`): what an analyst will read
    on_demand_cost_usd: float
    cost_ratio: float
    cloud_cost_usd: float  # the local cloud's own bill, to the market second
    # The backtest of the same market window, K and cold start, through the same acting path.
    replayed_ready_fraction: float
    replayed_cost_ratio: float
    history: str
    export: str
    model: str
    logs: str
    status_url: str
    missing_jobs: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def history_costs(ledger: Ledger, fleet: str) -> tuple[float, float]:
    """(cost, the same node-hours on demand) as ``python -m analytics query savings`` gives
    them from the history: the summary's figures are the ones an analyst reads later."""
    with ledger.reader() as con:
        result = run_canned(con, "savings")
    for row in result.rows:
        found = dict(zip(result.columns, row, strict=True))
        if found.get("fleet") == fleet:
            return float(found["cost"] or 0.0), float(found["on_demand_cost"] or 0.0)
    return 0.0, 0.0


def typical_k(samples: list[int], fallback: int) -> int:
    """The K the run served most of the time (its demand is steady by design)."""
    return Counter(samples).most_common(1)[0][0] if samples else fallback


def summarise_run(
    s: DemoSettings,
    ledger: Ledger,
    world: World,
    aws: LocalAws,
    endpoints: FleetEndpoints,
    target: FleetTarget,
    *,
    first_tick: int,
    started: float,
    start_at: datetime,
    end: datetime,
    stopped_early: bool,
    status_url: str,
) -> DemoSummary:
    """Once everything has stopped: every job accounted for, the ready samples written, the
    backtest of the window played (unless the one planned is it), then the summary."""
    sqs = aws.client("sqs")
    audit = audit_jobs(
        world.jobs,
        result_ids(aws.client("s3"), endpoints.results_bucket),
        [m for url in endpoints.dead_letter_queue_urls for m in dead_letters(sqs, url)],
        read_backlog(sqs, endpoints.job_queue_urls).total,
    )
    world.write_samples(s.out / "ready.csv")
    k = typical_k(world.counters.k_samples, target.min_nodes)
    replayed = world.replayed
    if replayed is None or stopped_early or k != target.min_nodes:
        # The planned window is not the one played: the backtest of the one played.
        replayed = replay_demo_window(
            world.market,
            target,
            start=first_tick,
            end=world.tick + 1,
            k=k,
            cold_start_s=s.cold_start_s,
        )
    return summarise(
        s,
        ledger,
        audit,
        world,
        replayed,
        started=started,
        start_at=start_at,
        end=end,
        stopped_early=stopped_early,
        status_url=status_url,
    )


def summarise(
    s: DemoSettings,
    ledger: Ledger,
    audit: JobAudit,
    world: World,
    replayed: Replayed,
    *,
    started: float,
    start_at: datetime,
    end: datetime,
    stopped_early: bool,
    status_url: str,
) -> DemoSummary:
    cloud, _ = world.costs(at=end)
    spot, on_demand = history_costs(ledger, s.fleet)
    decisions = decision_counts(ledger)
    samples = world.counters.ready_samples
    return DemoSummary(
        duration_s=round(time.monotonic() - started, 1),
        market_start=start_at.isoformat(),
        market_end=end.isoformat(),
        market_hours=round((end - start_at).total_seconds() / 3600, 2),
        stopped_early=stopped_early,
        jobs_submitted=audit.submitted,
        jobs_completed=audit.completed,
        jobs_dead_lettered=audit.dead_lettered,
        jobs_lost=audit.lost,
        jobs_pending=audit.pending,
        malformed_jobs=audit.malformed,
        malformed_dead_lettered_with_reason=audit.malformed_with_reason,
        valid_jobs_dead_lettered=audit.valid_dead_lettered,
        preemptions=world.counters.preemptions,
        interruption_events=warned_node_count(ledger),
        nodes_launched=world.counters.launched,
        launch_failures=world.counters.launch_failures,
        late_node_starts=world.nodes.late_starts,
        decisions=decisions.total,
        decisions_applied=decisions.applied,
        decisions_without_reason=decisions.without_reason,
        mean_ready_fraction=round(sum(samples) / len(samples), 4) if samples else 0.0,
        spot_cost_usd=round(spot, 4),
        on_demand_cost_usd=round(on_demand, 4),
        cost_ratio=round(spot / on_demand, 4) if on_demand > 0 else 0.0,
        cloud_cost_usd=round(cloud, 4),
        replayed_ready_fraction=round(replayed.ready_fraction, 4),
        replayed_cost_ratio=round(replayed.cost_ratio, 4),
        history=str(s.out / "history.duckdb"),
        export=str(s.out / "export"),
        model=str(s.out / "model"),
        logs=str(s.out / "logs"),
        status_url=status_url,
        missing_jobs=list(audit.missing[:20]),
    )
