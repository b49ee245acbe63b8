"""What the status API reads and asks: a running daemon, or a standby waiting for the lease.

``status`` and ``pools`` are built from memory only, so they answer in microseconds even
while a job holds the history; ``decisions``, ``nodes`` and ``page_view`` (the status page's
snapshot) read the history.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import asdict
from typing import Any, Protocol

from reconciler.api.page_gather import gather_page_view
from reconciler.api.page_view import StatusPageView
from reconciler.daemon.daemon import Daemon
from reconciler.daemon.settings import Mode

__all__ = ["DaemonSource", "Extras", "Source", "StandbySource"]

log = logging.getLogger(__name__)

# What an embedding process adds to /status (key "embedded") and to the page's "Run" panel:
# label -> value, shown in insertion order. Called on every request: keep it cheap.
Extras = Callable[[], Mapping[str, object]]


class Source(Protocol):
    leader: bool

    def ready(self) -> tuple[bool, str]: ...
    def status(self) -> dict[str, Any]: ...
    def pools(self, fleet: str | None) -> list[dict[str, Any]]: ...
    def decisions(self, fleet: str | None, limit: int) -> list[dict[str, Any]]: ...
    def nodes(self, fleet: str | None, include_terminated: bool) -> list[dict[str, Any]]: ...
    def page_view(self, window_s: float) -> StatusPageView: ...
    def reconcile_now(self) -> None: ...
    def set_mode(self, mode: Mode, by: str) -> None: ...
    def reset_breaker(self, by: str) -> None: ...


class NotLeaderError(Exception):
    """The daemon is a standby: it cannot act until it holds the lease."""


class StandbySource:
    leader = False

    def __init__(self, holder: str | None) -> None:
        self.holder = holder

    def ready(self) -> tuple[bool, str]:
        return False, f"standby: the lease is held by {self.holder or 'another daemon'}"

    def status(self) -> dict[str, Any]:
        return {"role": "standby", "lease_holder": self.holder, "jobs": {}, "fleets": {}}

    def pools(self, fleet: str | None) -> list[dict[str, Any]]:
        return []

    def decisions(self, fleet: str | None, limit: int) -> list[dict[str, Any]]:
        return []

    def nodes(self, fleet: str | None, include_terminated: bool) -> list[dict[str, Any]]:
        return []

    def page_view(self, window_s: float) -> StatusPageView:
        return StatusPageView(role="standby", now=None, window_s=window_s, lease_holder=self.holder)

    def reconcile_now(self) -> None:
        raise NotLeaderError(self.ready()[1])

    def set_mode(self, mode: Mode, by: str) -> None:
        raise NotLeaderError(self.ready()[1])

    def reset_breaker(self, by: str) -> None:
        raise NotLeaderError(self.ready()[1])


class DaemonSource:
    leader = True

    def __init__(self, daemon: Daemon, *, extras: Extras | None = None) -> None:
        self.daemon = daemon
        self.extras = extras

    def _embedded(self) -> tuple[tuple[tuple[str, object], ...], str | None]:
        """The extras, or why they failed: a broken callable must not break the API."""
        if self.extras is None:
            return (), None
        try:
            return tuple((str(k), v) for k, v in self.extras().items()), None
        except Exception as exc:
            log.debug("the extras callable failed", exc_info=True)
            return (), f"{type(exc).__name__}: {exc}"

    def ready(self) -> tuple[bool, str]:
        if not self.daemon.schedule.scheduler.running:
            return False, "the schedule is not running"
        return True, "leader"

    def status(self) -> dict[str, Any]:
        d = self.daemon
        fleets: dict[str, Any] = {}
        for fleet in d.settings.fleets:
            view = d.views[fleet.name]
            last = d.reconciler.last_decision.get(fleet.name)
            applied = d.reconciler.applied.get(fleet.name) or {}
            fleets[fleet.name] = {
                "current_placement": applied.get("placement"),
                "applied_at": applied.get("applied_at"),
                "desired_placement": last.placement if last else None,
                "last_decision": None
                if last is None
                else {
                    "decision_id": last.decision_id,
                    "ts": last.ts.isoformat(),
                    "changed": last.changed,
                    "applied": last.applied,
                    "reason": last.reason,
                },
                "group_desired": view.group.desired if view.group else None,
                "instances": view.group.instances if view.group else None,
                "desired_nodes": view.desired,
                "desired_reason": view.desired_reason,
            }
        out: dict[str, Any] = {
            "role": "leader",
            "mode": d.mode,
            "breaker": asdict(d.breaker.state),
            "started_at": d.started_at.isoformat(),
            "recovered_actions": d.recovered,
            "jobs": d.schedule.status(),
            "fleets": fleets,
        }
        if self.extras is not None:
            extras, error = self._embedded()
            out["embedded"] = None if error else {k: _json_value(v) for k, v in extras}
            out["embedded_error"] = error
        return out

    def pools(self, fleet: str | None) -> list[dict[str, Any]]:
        out = []
        for name, planned in list(self.daemon.reconciler.last.items()):
            if fleet is not None and name != fleet:
                continue
            for p in planned.predictions:
                spot, on_demand = planned.prices.get(p.pool, (None, None))
                out.append(
                    {
                        "fleet": name,
                        "pool": p.pool,
                        "probability": p.probability,
                        "basis": p.basis,
                        "prediction": p.reason,
                        "spot_price": spot,
                        "on_demand_price": on_demand,
                        "reason": planned.reasons.get(p.pool),
                    }
                )
        return out

    def decisions(self, fleet: str | None, limit: int) -> list[dict[str, Any]]:
        rows = self.daemon.ledger.read_rows(
            "SELECT decision_id, ts, fleet, mode, placement, desired_nodes, changed, applied, "
            "reason, reasons FROM decisions WHERE (? IS NULL OR fleet = ?) "
            "ORDER BY ts DESC, decision_id LIMIT ?",
            [fleet, fleet, limit],
        )
        keys = (
            "decision_id",
            "ts",
            "fleet",
            "mode",
            "placement",
            "desired_nodes",
            "changed",
            "applied",
            "reason",
            "reasons",
        )
        out = []
        for row in rows:
            item = dict(zip(keys, row, strict=True))
            item["ts"] = item["ts"].isoformat()
            for k in ("placement", "reasons"):
                item[k] = json.loads(item[k]) if item[k] else None
            out.append(item)
        return out

    def nodes(self, fleet: str | None, include_terminated: bool) -> list[dict[str, Any]]:
        rows = self.daemon.ledger.read_rows(
            "SELECT instance_id, fleet, pool, lifecycle, state, launched_at, terminated_at, "
            "observed_at FROM nodes WHERE (? IS NULL OR fleet = ?) "
            "AND (? OR state != 'terminated') ORDER BY instance_id",
            [fleet, fleet, include_terminated],
        )
        keys = (
            "instance_id",
            "fleet",
            "pool",
            "lifecycle",
            "state",
            "launched_at",
            "terminated_at",
            "observed_at",
        )
        return [
            {
                k: (v.isoformat() if hasattr(v, "isoformat") else v)
                for k, v in zip(keys, r, strict=True)
            }
            for r in rows
        ]

    def page_view(self, window_s: float) -> StatusPageView:
        extras, error = self._embedded()
        return gather_page_view(self.daemon, window_s=window_s, extras=extras, extras_error=error)

    def reconcile_now(self) -> None:
        self.daemon.schedule.run_now("reconcile")

    def set_mode(self, mode: Mode, by: str) -> None:
        self.daemon.set_mode(mode, by=by)

    def reset_breaker(self, by: str) -> None:
        self.daemon.reset_breaker(by=by)


def _json_value(v: object) -> object:
    """JSON's own types as they are; anything else (a datetime, a path, NaN, which strict
    JSON lacks) as its text."""
    if isinstance(v, float):
        return v if math.isfinite(v) else str(v)
    return v if v is None or isinstance(v, str | int | bool) else str(v)
