"""One reconcile of one fleet, one way: gather the facts (``reconciler.daemon.fleet_facts``),
decide from them alone, apply (``reconciler.control.FleetController``), then record.

The fleet's one controller: demand (the job backlog) sets K; the planner places K and its
spares pool by pool; the guards are checked once on the whole plan
(``reconciler.control.guards``); the fleet's groups are made to hold exactly that through the
Auto Scaling API (``reconciler.actuate.groups``), and a refused launch is re-placed within the
same reconcile. Every decision is recorded, applied or not, with the planner's reasons, every
action with its outcome, every refused launch as ``launch_failed`` (the pool then takes no
launch for ``unavailable_s``).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from gpu_node.logformat import log_context
from reconciler.actuate.base import StackActuator
from reconciler.control import FleetController, Outcome, to_stack_placement
from reconciler.control.types import GroupHolding, GroupsReader
from reconciler.core.controls import FleetControls
from reconciler.core.errors import DaemonError, LeaseLostError, ReconcilerError
from reconciler.core.history.ledger import ActionRecord, DecisionRecord, Ledger
from reconciler.core.settings import DaemonSettings, FleetTarget, Mode
from reconciler.daemon.breaker import Breaker
from reconciler.daemon.fleet_facts import ReconcileFacts, gather
from reconciler.daemon.scaling import ScaleDecision
from reconciler.decide.adapter import Planned, prediction_rows
from reconciler.decide.planner import Drain, LaunchOnDemand, LaunchSpot
from reconciler.decide.signal_model import PriorAndOwn

__all__ = ["Reconciler"]

log = logging.getLogger(__name__)


@dataclass
class Reconciler:
    ledger: Ledger
    settings: DaemonSettings
    actuators: dict[Mode, StackActuator]  # the stack write-back, by mode
    breaker: Breaker
    clock: Callable[[], datetime]
    mode: Callable[[], Mode]
    executor: Callable[[FleetTarget], GroupsReader]  # the fleet's groups (Auto Scaling API)
    demand: Callable[[FleetTarget, datetime], ScaleDecision]  # K from the job backlog
    model: PriorAndOwn | None = None  # the prior/own blend; None: the baseline decides
    leader: Callable[[], bool] = lambda: True  # the lease, checked before every actuation
    # What operators set by hand (pause, cordons, drains): reconciler.daemon.operator.
    controls: Callable[[str, datetime], FleetControls] = lambda _fleet, _now: FleetControls()
    # In memory for the status API (which must not wait on the history's lock):
    last: dict[str, Planned] = field(default_factory=dict)  # /pools
    last_decision: dict[str, DecisionRecord] = field(default_factory=dict)
    last_outcome: dict[str, Outcome] = field(default_factory=dict)
    applied: dict[str, dict[str, Any]] = field(default_factory=dict)  # read back at start
    # The reconcile job and a warning's reaction run on different threads: one at a time,
    # or both could act on the same groups.
    _serial: threading.Lock = field(default_factory=threading.Lock)

    def load(self) -> None:
        for fleet in self.settings.fleets:
            state = self.ledger.get_state(f"applied:{fleet.name}")
            if isinstance(state, dict):
                self.applied[fleet.name] = state

    def reconcile(self, fleet: FleetTarget, *, trigger: str = "schedule") -> DecisionRecord:
        with self._serial, log_context(fleet=fleet.name):
            return self._reconcile(fleet, trigger)

    def _reconcile(self, fleet: FleetTarget, trigger: str) -> DecisionRecord:
        # 1. gather: every read, once.
        executor = self.executor(fleet)
        facts = gather(
            fleet,
            ledger=self.ledger,
            settings=self.settings,
            now=self.clock(),
            mode=self.mode(),
            demand=self.demand,
            controls=self.controls,
            leader=self.leader,
            breaker_open=self.breaker.is_open,
            model=self.model,
            holding=self._holding(fleet, executor),
        )
        now, mode = facts.now, facts.mode
        self.ledger.set_state(f"demand:{fleet.name}", facts.demand.desired, now)
        if facts.decision is None:
            return self._record_no_decision(
                fleet, mode, now, f"no decision ({trigger}): {facts.unreadable}"
            )
        # 2. decide: from the facts alone.
        controller = FleetController.of(
            self.settings.safety, cold_start_s=self.settings.cold_start_s
        )
        planned = controller.plan(facts.decision)
        self.last[fleet.name] = planned
        decision_id = f"d-{planned.plan.decision_id}-{uuid.uuid4().hex[:6]}"
        # 3. apply: the groups made to hold the plan (a refusal re-planned from the same
        # facts), then the records.
        try:
            outcome = controller.act(facts.decision, planned, executor)
        except LeaseLostError as exc:
            # Not a failure of AWS: the breaker stays as it is; the refusal is on the record.
            log.error("fleet %s: actuation refused by the fencing check: %s", fleet.name, exc)
            self.ledger.note("fenced", fleet=fleet.name, now=now, status="refused", detail=str(exc))
            return self._record_no_decision(
                fleet, mode, now, f"{trigger}: refused by the fencing check: {exc}; "
                + planned.plan.summary,
            )  # fmt: skip
        except DaemonError as exc:
            log.error(
                "acting on fleet %s failed: %s", fleet.name, exc, extra={"decision_id": decision_id}
            )
            self.breaker.failure(str(exc), self.clock())
            self.ledger.note(
                "set_desired", fleet=fleet.name, now=now, status="failed", detail=str(exc)
            )
            return self._record_no_decision(
                fleet, mode, now, f"{trigger}: acting failed: {exc}; {planned.plan.summary}"
            )
        if outcome.applied:
            self.breaker.success(self.clock())
        self.last_outcome[fleet.name] = outcome
        record = self._record(facts, decision_id, planned, outcome, trigger)
        deciding = None if self.model is None else (self.model.own or self.model.prior)
        self.ledger.record_predictions(prediction_rows(planned, now, facts.marks, deciding))
        return record

    @staticmethod
    def _holding(fleet: FleetTarget, executor: GroupsReader) -> tuple[GroupHolding, ...]:
        """What the groups hold now; nothing (the history alone) where they cannot be read."""
        try:
            return executor.holding()
        except ReconcilerError as exc:
            log.warning(
                "fleet %s: the groups could not be read (%s): deciding on the "
                "history's nodes alone",
                fleet.name,
                exc,
            )
            return ()

    def _record_no_decision(
        self, fleet: FleetTarget, mode: Mode, now: datetime, reason: str
    ) -> DecisionRecord:
        record = DecisionRecord(
            f"n-{uuid.uuid4().hex[:12]}", now, fleet.name, mode, None, None, False, False,
            reason, {},
        )  # fmt: skip
        self.ledger.record_decision(record)
        self.last_decision[fleet.name] = record
        return record

    def _record(
        self,
        facts: ReconcileFacts,
        decision_id: str,
        planned: Planned,
        outcome: Outcome,
        trigger: str,
    ) -> DecisionRecord:
        fleet, mode, now, demand = facts.fleet, facts.mode, facts.now, facts.demand
        final = outcome.last
        changed = any(r.result is not None and r.result.changed for r in outcome.rounds)
        for n, r in enumerate(outcome.rounds):
            status = "applied" if r.result is not None else "skipped"
            for i, action in enumerate(r.verdict.allowed):
                self._record_action(fleet, decision_id, f"{n}-{i}", now, action, status, None)
            for i, (action, why) in enumerate(r.verdict.held_back):
                self._record_action(fleet, decision_id, f"{n}-h{i}", now, action, "skipped", why)
            for i, failure in enumerate(r.result.failures if r.result is not None else ()):
                self.ledger.record_action(
                    ActionRecord(
                        f"{decision_id}-{n}-f{i}", decision_id, now, fleet.name,
                        "launch_failed",
                        failure.pool.name if failure.pool is not None else "on-demand",
                        "failed", failure.message,
                    )
                )  # fmt: skip
            if (
                any(isinstance(a, LaunchSpot) and a.purpose == "move" for a in r.verdict.allowed)
                and r.result is not None
            ):
                self.ledger.set_state(f"last_move:{fleet.name}", now.timestamp(), now)
        placement = to_stack_placement(final.targets, fleet, decision_id, planned.plan)
        if outcome.applied:
            state = {"placement": placement, "applied_at": now.isoformat()}
            self.ledger.set_state(f"applied:{fleet.name}", state, now)
            self.applied[fleet.name] = state
        verdict = final.verdict.reason
        what = final.result.summary if final.result is not None else "nothing applied"
        record = DecisionRecord(
            decision_id=decision_id,
            ts=now,
            fleet=fleet.name,
            mode=mode,
            placement=placement,
            desired_nodes=final.targets.total(),
            changed=changed,
            applied=changed,  # acted on AWS: a group's count or a drain
            reason=f"{trigger}: {verdict}; K={demand.desired} ({demand.reason}); {what}; "
            + planned.plan.summary
            + _refusals(outcome),
            reasons=_with_unavailable(planned.reasons, outcome, facts.controls),
        )
        self.ledger.record_decision(record)
        self.last_decision[fleet.name] = record
        log.info(
            "decision %s (%s): %s", decision_id, "applied" if outcome.applied else "not applied",
            record.reason, extra={"decision_id": decision_id},
        )  # fmt: skip
        return record

    def _record_action(
        self,
        fleet: FleetTarget,
        decision_id: str,
        suffix: str,
        now: datetime,
        action: LaunchSpot | LaunchOnDemand | Drain,
        status: str,
        why: str | None,
    ) -> None:
        target: str | None
        if isinstance(action, LaunchSpot):
            kind, target = "launch", action.pool
        elif isinstance(action, LaunchOnDemand):
            kind, target = "launch_on_demand", action.region
        else:
            kind, target = "drain", action.node_id
        # A serving spot node drained to optimise counts against the churn limit.
        rolled = 1 if isinstance(action, Drain) and action.pool is not None else None
        detail = f"{action.purpose}: {action.reason}" + (f" (held back: {why})" if why else "")
        self.ledger.record_action(
            ActionRecord(
                f"{decision_id}-{suffix}", decision_id, now, fleet.name, kind, target,
                status, detail, rolled if status == "applied" else None,
            )
        )  # fmt: skip

    def sync_stack(self, fleet: FleetTarget) -> str:
        """Write the placement in force into the stack (``pulumi up`` in mode pulumi), so the
        stack and the groups agree; nothing when the stack already has it."""
        mode = self.mode()
        applied = self.ledger.get_state(f"applied:{fleet.name}") or {}
        placement = applied.get("placement")
        written = self.ledger.get_state(f"stack:{fleet.name}")
        if placement is None or mode == "shadow" or not self.leader():
            return "nothing to write"
        if self.controls(fleet.name, self.clock()).paused is not None:
            return "paused by an operator: nothing written"
        if written is not None and _counts(written) == _counts(placement):
            return "the stack has the placement in force"
        now = self.clock()
        result = self.actuators[mode].apply(fleet.name, placement)
        self.ledger.set_state(f"stack:{fleet.name}", placement, now)
        self.ledger.note(
            "stack_update", fleet=fleet.name, now=now, status="applied", detail=result.summary
        )
        return result.summary


def _counts(placement: dict[str, Any]) -> Any:
    pools = sorted((p["instanceType"], p["subnetId"], p["nodes"]) for p in placement["pools"])
    return pools, placement["onDemand"]


def _refusals(outcome: Outcome) -> str:
    failures = [f for r in outcome.rounds if r.result for f in r.result.failures]
    if not failures:
        return ""
    pools = ", ".join(f.pool.name if f.pool else "on-demand" for f in failures)
    return f"; launches refused in {pools}: re-placed"


def _with_unavailable(
    reasons: dict[str, str], outcome: Outcome, controls: FleetControls
) -> dict[str, str]:
    out = dict(reasons)
    cordons = {c.pool: c for c in controls.cordons}
    for pool, until in outcome.unavailable.items():
        when = datetime.fromtimestamp(until, UTC)
        cordon = cordons.get(pool)
        if cordon is not None and until <= cordon.until.timestamp():
            why = f"cordoned by {cordon.by} until {cordon.until:%H:%M:%S}Z: {cordon.reason}"
        else:
            why = f"launch refused: unavailable until {when:%H:%M:%S}Z"
        out[pool] = f"{out.get(pool, pool)} [{why}]"
    return out
