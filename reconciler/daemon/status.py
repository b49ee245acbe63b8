"""The daemon's status view (``reconciler.api.status_view.DaemonStatus``), built from its
memory only: the API answers ``/status`` from it without waiting on the history."""

from __future__ import annotations

from typing import TYPE_CHECKING

from reconciler.api.status_view import BreakerView, DaemonStatus, FleetStatus, PlanView
from reconciler.daemon.drift import drift

if TYPE_CHECKING:
    from reconciler.daemon.daemon import Daemon

__all__ = ["daemon_status"]


def daemon_status(d: Daemon) -> DaemonStatus:
    now = d.clock()
    fleets = []
    for fleet in d.settings.fleets:
        view = d.views[fleet.name]
        applied = d.reconciler.applied.get(fleet.name) or {}
        planned = d.reconciler.last.get(fleet.name)
        placement = applied.get("placement")
        fleets.append(
            FleetStatus(
                target=fleet,
                applied_placement=placement,
                applied_at=applied.get("applied_at"),
                last_decision=d.reconciler.last_decision.get(fleet.name),
                plan=None
                if planned is None
                else PlanView(planned.predictions, planned.prices, planned.reasons),
                group=view.group,
                desired_nodes=view.desired,
                desired_reason=view.desired_reason,
                drift=drift(fleet, placement, view.group.by_group if view.group else {}),
                controls=d.operator.controls(fleet.name, now),
            )
        )
    b = d.breaker.state
    return DaemonStatus(
        now=now,
        mode=d.mode,
        breaker=BreakerView(b.failures, b.open, b.last_error, b.changed_at),
        started_at=d.started_at,
        recovered_actions=d.recovered,
        jobs=d.schedule.runs(),
        fleets=tuple(fleets),
        model=d.model_state,
    )
