"""What the status API reads and asks: a running daemon, or a standby waiting for the lease.

``status`` and ``pools`` are built from the daemon's memory only (``LeadingDaemon.status``),
so they answer in microseconds even while a job holds the history; ``decisions``, ``nodes``
and ``page_view`` (the status page's snapshot) read the history.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import asdict
from typing import Protocol

from reconciler.api.models import (
    BreakerOut,
    DecisionOut,
    FleetStatusOut,
    JobOut,
    JsonScalar,
    LastDecisionOut,
    ModelComparisonOut,
    ModelOut,
    NodeOut,
    PlacementOut,
    PoolOut,
    ReadinessOut,
    StatusOut,
)
from reconciler.api.page_gather import gather_page_view
from reconciler.api.page_view import StatusPageView
from reconciler.api.status_view import FleetStatus, LeadingDaemon
from reconciler.core.errors import NotLeaderError
from reconciler.core.history.run_reads import latest_decisions, nodes_of
from reconciler.core.operator_commands import Command
from reconciler.core.readiness import Readiness
from reconciler.core.settings import Mode
from reconciler.decide.model_compare import Comparison
from reconciler.decide.model_registry import comparison_json
from reconciler.decide.model_state import ModelState

__all__ = ["DaemonSource", "Extras", "NotLeaderError", "Source", "StandbySource"]

log = logging.getLogger(__name__)

# What an embedding process adds to /status (key "embedded") and to the page's "Run" panel:
# label -> value, shown in insertion order. Called on every request: keep it cheap.
Extras = Callable[[], Mapping[str, object]]


class Source(Protocol):
    @property
    def leader(self) -> bool: ...

    def ready(self) -> Readiness: ...
    def status(self) -> StatusOut: ...
    def pools(self, fleet: str | None) -> list[PoolOut]: ...
    def decisions(self, fleet: str | None, limit: int) -> list[DecisionOut]: ...
    def nodes(self, fleet: str | None, include_terminated: bool) -> list[NodeOut]: ...
    def page_view(self, window_s: float) -> StatusPageView: ...
    def reconcile_now(self) -> None: ...
    def set_mode(self, mode: Mode, by: str) -> None: ...
    def reset_breaker(self, by: str) -> None: ...
    def operate(self, command: Command, by: str) -> str: ...


class StandbySource:
    leader = False

    def __init__(self, holder: str | None) -> None:
        self.holder = holder

    def ready(self) -> Readiness:
        holder = self.holder or "another daemon"
        return Readiness(False, "standby", f"standby: the lease is held by {holder}")

    def status(self) -> StatusOut:
        return StatusOut(role="standby", lease_holder=self.holder, jobs={}, fleets={})

    def pools(self, fleet: str | None) -> list[PoolOut]:
        return []

    def decisions(self, fleet: str | None, limit: int) -> list[DecisionOut]:
        return []

    def nodes(self, fleet: str | None, include_terminated: bool) -> list[NodeOut]:
        return []

    def page_view(self, window_s: float) -> StatusPageView:
        return StatusPageView(role="standby", now=None, window_s=window_s, lease_holder=self.holder)

    def reconcile_now(self) -> None:
        raise NotLeaderError(self.ready().detail)

    def set_mode(self, mode: Mode, by: str) -> None:
        raise NotLeaderError(self.ready().detail)

    def reset_breaker(self, by: str) -> None:
        raise NotLeaderError(self.ready().detail)

    def operate(self, command: Command, by: str) -> str:
        raise NotLeaderError(self.ready().detail)


class DaemonSource:
    """A leading daemon, through the view it gives (``reconciler.api.status_view``)."""

    def __init__(self, daemon: LeadingDaemon, *, extras: Extras | None = None) -> None:
        self.daemon = daemon
        self.extras = extras

    @property
    def leader(self) -> bool:
        """The lease re-checked now: a lease file deleted or taken shows at the next scrape."""
        return self.daemon.leading()

    def _embedded(self) -> tuple[tuple[tuple[str, object], ...], str | None]:
        """The extras, or why they failed: a broken callable must not break the API."""
        if self.extras is None:
            return (), None
        try:
            return tuple((str(k), v) for k, v in self.extras().items()), None
        except Exception as exc:
            log.debug("the extras callable failed", exc_info=True)
            return (), f"{type(exc).__name__}: {exc}"

    def ready(self) -> Readiness:
        return self.daemon.readiness()

    def status(self) -> StatusOut:
        d = self.daemon.status()
        out = StatusOut(
            role="leader",
            mode=d.mode,
            breaker=BreakerOut(**asdict(d.breaker)),
            started_at=d.started_at.isoformat(),
            recovered_actions=d.recovered_actions,
            readiness=ReadinessOut.of(self.ready()),
            jobs={name: JobOut(**asdict(job)) for name, job in d.jobs.items()},
            fleets={f.target.name: fleet_status_out(f) for f in d.fleets},
            model=model_out(d.model),
        )
        if self.extras is None:
            return out
        extras, error = self._embedded()
        return out.model_copy(
            update={
                "embedded": None if error else {k: _json_value(v) for k, v in extras},
                "embedded_error": error,
            }
        )

    def pools(self, fleet: str | None) -> list[PoolOut]:
        out = []
        for f in self.daemon.status().fleets:
            planned, name = f.plan, f.target.name
            if planned is None or (fleet is not None and name != fleet):
                continue
            for p in planned.predictions:
                spot, on_demand = planned.prices.get(p.pool, (None, None))
                out.append(
                    PoolOut(
                        fleet=name,
                        pool=p.pool,
                        probability=p.probability,
                        basis=p.basis,
                        prediction=p.reason,
                        spot_price=spot,
                        on_demand_price=on_demand,
                        reason=planned.verdicts.get(p.pool),
                    )
                )
        return out

    def decisions(self, fleet: str | None, limit: int) -> list[DecisionOut]:
        return [
            DecisionOut(
                decision_id=d.decision_id,
                ts=d.ts.isoformat(),
                fleet=d.fleet,
                mode=d.mode,
                placement=_placement(d.placement),
                desired_nodes=d.desired_nodes,
                changed=d.changed,
                applied=d.applied,
                reason=d.reason,
                reasons=d.reasons,
            )
            for d in latest_decisions(self.daemon.ledger, fleet, limit)
        ]

    def nodes(self, fleet: str | None, include_terminated: bool) -> list[NodeOut]:
        return [
            NodeOut(
                instance_id=n.instance_id,
                fleet=n.fleet,
                pool=n.pool,
                lifecycle=n.lifecycle,
                state=n.state,
                launched_at=_iso(n.launched_at),
                terminated_at=_iso(n.terminated_at),
                observed_at=_iso(n.observed_at),
            )
            for n in nodes_of(self.daemon.ledger, fleet, include_terminated=include_terminated)
        ]

    def page_view(self, window_s: float) -> StatusPageView:
        extras, error = self._embedded()
        return gather_page_view(
            self.daemon.status(),
            self.daemon.ledger,
            window_s=window_s,
            extras=extras,
            extras_error=error,
        )

    def reconcile_now(self) -> None:
        self.daemon.reconcile_now()

    def set_mode(self, mode: Mode, by: str) -> None:
        self.daemon.request_mode(mode, by=by)

    def reset_breaker(self, by: str) -> None:
        self.daemon.reset_breaker(by=by)

    def operate(self, command: Command, by: str) -> str:
        return self.daemon.operate(command, by=by)


def fleet_status_out(f: FleetStatus) -> FleetStatusOut:
    last, group = f.last_decision, f.group
    return FleetStatusOut(
        current_placement=_placement(f.applied_placement),
        applied_at=f.applied_at,
        desired_placement=_placement(last.placement if last else None),
        last_decision=None
        if last is None
        else LastDecisionOut(
            decision_id=last.decision_id,
            ts=last.ts.isoformat(),
            changed=last.changed,
            applied=last.applied,
            reason=last.reason,
        ),
        group_desired=group.desired if group else None,
        instances=group.instances if group else None,
        desired_nodes=f.desired_nodes,
        desired_reason=f.desired_reason,
        drift=f.drift,
        controls=f.controls,
    )


def _comparison(c: Comparison | None) -> ModelComparisonOut | None:
    return None if c is None else ModelComparisonOut.model_validate(comparison_json(c))


def model_out(state: ModelState) -> ModelOut:
    return ModelOut(
        deciding=state.deciding,
        reason=state.reason,
        promoted_at=state.promoted_at,
        comparison=_comparison(state.comparison),
        candidate_id=state.candidate_id,
        candidate=_comparison(state.candidate),
    )


def _placement(raw: object) -> PlacementOut | None:
    return None if raw is None else PlacementOut.model_validate(raw)


def _iso(v: object) -> str | None:
    return None if v is None else v.isoformat() if hasattr(v, "isoformat") else str(v)


def _json_value(v: object) -> JsonScalar:
    """JSON's own types as they are; anything else (a datetime, a path, NaN, which strict
    JSON lacks) as its text."""
    if isinstance(v, float):
        return v if math.isfinite(v) else str(v)
    return v if v is None or isinstance(v, str | int | bool) else str(v)
