"""K for a reconcile: how many nodes the fleet's job backlog asks to serve, by AWS's
backlog-per-instance rule, with the idle clock and an operator's floor kept in the history."""

from __future__ import annotations

from datetime import datetime, timedelta

from reconciler.collect.fleet import Backlog, read_backlog
from reconciler.core.aws import Clients
from reconciler.core.controls import FleetControls
from reconciler.core.history.ledger import Ledger
from reconciler.core.settings import DaemonSettings, FleetTarget
from reconciler.daemon.scaling import ScaleDecision, desired_nodes

__all__ = ["fleet_demand"]


def fleet_demand(
    fleet: FleetTarget,
    now: datetime,
    *,
    settings: DaemonSettings,
    ledger: Ledger,
    clients: Clients,
    controls: FleetControls,
) -> ScaleDecision:
    s = settings.scaling
    urls = fleet.job_queue_urls
    backlog = read_backlog(clients("sqs", fleet.region), urls) if urls else Backlog(0, 0)
    idle_key = f"idle_since:{fleet.name}"
    idle_since = ledger.get_state(idle_key)
    if backlog.total > 0:
        if idle_since is not None:
            ledger.set_state(idle_key, None, now)
        idle_since = None
    elif idle_since is None:
        idle_since = now.isoformat()
        ledger.set_state(idle_key, idle_since, now)
    floor = controls.floor_at(now)
    min_nodes = max(fleet.min_nodes, floor or 0)
    per_job = ledger.seconds_per_job(fleet.name, now - timedelta(seconds=s.job_window_s))
    previous = ledger.get_state(f"demand:{fleet.name}")
    if previous is None:  # a daemon's first look: the fleet keeps the size it has
        warned_since = now - timedelta(seconds=settings.safety.risky_mark_s)
        live = ledger.live_nodes(fleet.name, warned_since=warned_since)
        previous = sum(1 for n in live if not n.warned)
    decision = desired_nodes(
        visible=backlog.visible,
        in_flight=backlog.in_flight,
        seconds_per_job=per_job or s.default_seconds_per_job,
        acceptable_latency_s=s.acceptable_latency_s,
        min_nodes=min_nodes,
        max_nodes=fleet.max_nodes,
        current=int(previous) if previous is not None else fleet.min_nodes,
        idle_since=datetime.fromisoformat(idle_since) if idle_since else None,
        now=now,
        idle_to_zero_s=fleet.idle_to_zero_s or s.idle_to_zero_s,
    )
    if floor is not None and floor > fleet.min_nodes:
        decision = ScaleDecision(
            decision.desired, f"{decision.reason}; operator floor {floor} in force"
        )
    return decision
