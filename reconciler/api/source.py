"""What the status API reads and asks: a running daemon, or a standby waiting for the lease.

``status`` and ``pools`` are built from memory only, so they answer in microseconds even
while a job holds the history; ``decisions`` and ``nodes`` read the history.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any, Protocol

from reconciler.daemon.daemon import Daemon
from reconciler.daemon.settings import Mode

__all__ = ["DaemonSource", "Source", "StandbySource"]


class Source(Protocol):
    leader: bool

    def ready(self) -> tuple[bool, str]: ...
    def status(self) -> dict[str, Any]: ...
    def pools(self, fleet: str | None) -> list[dict[str, Any]]: ...
    def decisions(self, fleet: str | None, limit: int) -> list[dict[str, Any]]: ...
    def nodes(self, fleet: str | None, include_terminated: bool) -> list[dict[str, Any]]: ...
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

    def reconcile_now(self) -> None:
        raise NotLeaderError(self.ready()[1])

    def set_mode(self, mode: Mode, by: str) -> None:
        raise NotLeaderError(self.ready()[1])

    def reset_breaker(self, by: str) -> None:
        raise NotLeaderError(self.ready()[1])


class DaemonSource:
    leader = True

    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon

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
        return {
            "role": "leader",
            "mode": d.mode,
            "breaker": asdict(d.breaker.state),
            "started_at": d.started_at.isoformat(),
            "recovered_actions": d.recovered,
            "jobs": d.schedule.status(),
            "fleets": fleets,
        }

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

    def reconcile_now(self) -> None:
        self.daemon.schedule.run_now("reconcile")

    def set_mode(self, mode: Mode, by: str) -> None:
        self.daemon.set_mode(mode, by=by)

    def reset_breaker(self, by: str) -> None:
        self.daemon.reset_breaker(by=by)
