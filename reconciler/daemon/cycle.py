"""One reconcile of one fleet: facts from the history → plan → guards → actuator → record.

The decision itself is pure (``decide_adapter`` → the planner, ``guards.check``); this
module does the reading and writing around it. Every decision is recorded, applied or
not, with its reason and the planner's per-pool reasons. An actuation is recorded as
``planned`` before it starts and ``applied``/``failed`` after, so a crash in between is
found at the next start (``recover``) and the placement is applied again.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from reconciler.actuate.base import StackActuator
from reconciler.daemon.breaker import Breaker
from reconciler.daemon.decide_adapter import (
    DecideError,
    Planned,
    plan_fleet,
    planned_cost,
    prediction_rows,
    to_stack_placement,
)
from reconciler.daemon.errors import ActuationError
from reconciler.daemon.guards import GuardFacts, check
from reconciler.daemon.ledger import ActionRecord, DecisionRecord, Ledger
from reconciler.daemon.reactions import marks_in_force
from reconciler.daemon.settings import DaemonSettings, FleetTarget, Mode
from reconciler.model import TrainedModel
from reconciler.planner import FleetNode

__all__ = ["Reconciler", "core", "recover"]

log = logging.getLogger(__name__)


def core(placement: dict[str, Any] | None) -> Any:
    """What makes two placements the same: pools in order and the on-demand count. Spot counts
    are left out while the backlog scaler still sizes the fleet with SetDesiredCapacity (a
    count that follows it is not a new placement)."""
    if placement is None:
        return None
    return (
        tuple((p["instanceType"], p["subnetId"]) for p in placement["pools"]),
        placement.get("onDemand", 0),
    )


@dataclass
class Reconciler:
    ledger: Ledger
    settings: DaemonSettings
    actuators: dict[Mode, StackActuator]
    breaker: Breaker
    clock: Callable[[], datetime]
    mode: Callable[[], Mode]
    model: TrainedModel | None = None
    leader: Callable[[], bool] = lambda: True  # the lease, checked before every actuation
    # In memory for the status API (which must not wait on the history's lock):
    last: dict[str, Planned] = field(default_factory=dict)  # /pools
    last_decision: dict[str, DecisionRecord] = field(default_factory=dict)
    applied: dict[str, dict[str, Any]] = field(default_factory=dict)  # read back at start
    # The reconcile job and a warning's reaction run on different threads: one at a time,
    # or both could act on the same placement in force.
    _serial: threading.Lock = field(default_factory=threading.Lock)

    def load(self) -> None:
        for fleet in self.settings.fleets:
            state = self.ledger.get_state(f"applied:{fleet.name}")
            if isinstance(state, dict):
                self.applied[fleet.name] = state

    def nodes(self, fleet: FleetTarget) -> tuple[FleetNode, ...]:
        out = []
        for instance_id, pool, lifecycle, launched in self.ledger.running_nodes(fleet.name):
            start = launched.timestamp() if launched is not None else 0.0
            out.append(
                FleetNode(
                    node_id=instance_id,
                    pool=pool if lifecycle == "spot" else None,
                    launched_at=start,
                    ready_at=start + self.settings.cold_start_s,
                )
            )
        return tuple(out)

    def reconcile(self, fleet: FleetTarget, *, trigger: str = "schedule") -> DecisionRecord:
        with self._serial:
            return self._reconcile(fleet, trigger)

    def _reconcile(self, fleet: FleetTarget, trigger: str) -> DecisionRecord:
        now = self.clock()
        mode = self.mode()
        safety = self.settings.safety
        nodes = self.nodes(fleet)
        wanted = self.ledger.get_state(f"desired:{fleet.name}")
        # Plan for at least one node: with none wanted the placement still says where the
        # next one goes, so a scale-up never waits for a reconcile.
        desired = max(1, int(wanted) if wanted is not None else max(fleet.min_nodes, len(nodes)))
        marks = marks_in_force(
            self.ledger.marks(now - timedelta(seconds=safety.risky_mark_s)),
            now=now,
            settings=safety,
        )
        try:
            with self.ledger.reader() as con:
                planned = plan_fleet(
                    con,
                    fleet,
                    now=now,
                    desired_nodes=desired,
                    nodes=nodes,
                    marks=marks,
                    model=self.model,
                    lookback_s=self.settings.lookback_s,
                    grid_s=self.settings.grid_s,
                    cold_start_s=self.settings.cold_start_s,
                )
        except DecideError as exc:
            record = DecisionRecord(
                f"n-{uuid.uuid4().hex[:12]}",
                now,
                fleet.name,
                mode,
                None,
                None,
                False,
                False,
                f"no decision ({trigger}): {exc}",
                {},
            )
            self.ledger.record_decision(record)
            self.last_decision[fleet.name] = record
            return record
        self.last[fleet.name] = planned
        proposed = to_stack_placement(planned, fleet)
        applied_state = self.ledger.get_state(f"applied:{fleet.name}") or {}
        current = applied_state.get("placement")
        changed = proposed is not None and core(proposed) != core(current)
        kept = {(p["instanceType"], p["subnetId"]) for p in (proposed or {}).get("pools", [])}
        would_roll = sum(
            1 for n in nodes if n.pool is not None and _type_subnet(n.pool, fleet) not in kept
        )
        warned = {p for p, m in marks.items() if m.warned}
        urgent = any(n.pool in warned for n in nodes)
        applied_at = applied_state.get("applied_at")
        verdict = check(
            GuardFacts(
                now=now,
                mode=mode,
                changed=changed,
                breaker_open=self.breaker.is_open,
                market_at=self.ledger.freshest_market(fleet.pools()),
                applied_at=datetime.fromisoformat(applied_at) if applied_at else None,
                rolled_last_hour=self.ledger.rolled_since(fleet.name, now - timedelta(hours=1)),
                would_roll=would_roll,
                planned_usd_per_hour=planned_cost(planned, fleet),
                budget_usd_per_hour=fleet.budget_usd_per_hour,
                urgent=urgent,
                leader=self.leader(),
            ),
            safety,
        )
        decision_id = f"d-{planned.plan.decision_id}-{uuid.uuid4().hex[:6]}"
        if proposed is not None:
            proposed = {**proposed, "decisionId": decision_id}
        applied, reason = False, verdict.reason
        if changed and proposed is not None:
            applied, reason = self._actuate(fleet, mode, decision_id, proposed, verdict, would_roll)
        self._record_plan_actions(fleet, decision_id, planned, now, applied)
        record = DecisionRecord(
            decision_id=decision_id,
            ts=now,
            fleet=fleet.name,
            mode=mode,
            placement=proposed,
            desired_nodes=planned.plan.placement.desired_nodes,
            changed=changed,
            applied=applied,
            reason=f"{trigger}: {reason}; {planned.plan.summary}",
            reasons=planned.reasons,
        )
        self.ledger.record_decision(record)
        self.last_decision[fleet.name] = record
        self.ledger.record_predictions(prediction_rows(planned, now, marks, self.model))
        return record

    def _actuate(
        self,
        fleet: FleetTarget,
        mode: Mode,
        decision_id: str,
        proposed: dict[str, Any],
        verdict: Any,
        would_roll: int,
    ) -> tuple[bool, str]:
        now = self.clock()
        action_id = f"a-{uuid.uuid4().hex[:12]}"
        base = ActionRecord(
            action_id,
            decision_id,
            now,
            fleet.name,
            "stack_update",
            mode,
            "planned",
            None,
            would_roll,
        )
        if not verdict.apply:
            self.ledger.record_action(_with(base, "skipped", "; ".join(verdict.refusals)))
            return False, verdict.reason
        self.ledger.record_action(base)  # planned: a crash from here on is seen at restart
        try:
            result = self.actuators[mode].apply(fleet.name, proposed)
        except ActuationError as exc:
            log.error("actuation failed for %s: %s", fleet.name, exc)
            self.breaker.failure(str(exc), self.clock())
            self.ledger.record_action(_with(base, "failed", str(exc)))
            return False, f"actuation failed: {exc}"
        self.breaker.success(self.clock())
        self.ledger.record_action(_with(base, "applied", result.summary))
        state = {"placement": proposed, "applied_at": now.isoformat(), "decision_id": decision_id}
        self.ledger.set_state(f"applied:{fleet.name}", state, now)
        self.applied[fleet.name] = state
        return True, f"applied by {mode}: {result.summary}"

    def _record_plan_actions(
        self, fleet: FleetTarget, decision_id: str, planned: Planned, now: datetime, applied: bool
    ) -> None:
        for i, action in enumerate(planned.plan.actions):
            kind = type(action).__name__  # LaunchSpot, LaunchOnDemand, Drain
            target = getattr(action, "pool", None) or getattr(action, "node_id", None)
            self.ledger.record_action(
                ActionRecord(
                    f"{decision_id}-{i}",
                    decision_id,
                    now,
                    fleet.name,
                    {"LaunchSpot": "launch", "LaunchOnDemand": "launch_on_demand"}.get(
                        kind, "drain"
                    ),
                    None if target is None else str(target),
                    "planned" if applied else "skipped",
                    action.reason,
                )
            )


def _type_subnet(pool: str, fleet: FleetTarget) -> tuple[str, str]:
    _region, zone, itype = pool.split("/", 2)
    return itype, fleet.subnets.get(zone, "")


def _with(base: ActionRecord, status: str, detail: str | None) -> ActionRecord:
    return ActionRecord(
        base.action_id,
        base.decision_id,
        base.ts,
        base.fleet,
        base.kind,
        base.target,
        status,
        detail,
        base.nodes_rolled,
    )


def recover(ledger: Ledger, now: datetime) -> int:
    """Stack updates left ``planned`` by a crash: mark them failed. Their placement was not
    recorded as applied, so the next reconcile applies it again (``up`` is idempotent)."""
    rows = ledger.rows(
        "SELECT action_id FROM fleet_actions WHERE kind = 'stack_update' AND status = 'planned'"
    )
    for (action_id,) in rows:
        with ledger.con() as con:
            con.execute(
                "UPDATE fleet_actions SET status = 'failed', detail = ? WHERE action_id = ?",
                [
                    f"interrupted: the daemon stopped during the update (found {now.isoformat()})",
                    action_id,
                ],
            )
    return len(rows)
