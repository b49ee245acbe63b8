"""Operator actions: what a person asks of a running daemon through the API or
``python -m reconciler ctl``, each with the reason given, recorded in the history
(``fleet_actions``, kinds in ``core.operator_commands.OPERATOR_KINDS``) and shown on the
status page.

A command names its fleet, pool or node; one the daemon does not have is an
``UnknownTargetError`` naming it (404), one that cannot be carried out as asked an
``InvalidCommandError`` (422). ``Operator`` keeps each fleet's controls in memory (the API's
reads and every reconcile read them without waiting on the history) and writes them through
to the history, so a restart keeps them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from analytics.pools import Pool
from reconciler.core.controls import (
    CordonedPool,
    FleetControls,
    NodeFloor,
    Paused,
    RequestedDrain,
    state_key,
)
from reconciler.core.history.ledger import Ledger
from reconciler.core.operator_commands import (
    ClearFloor,
    Command,
    CordonPool,
    DrainNode,
    InvalidCommandError,
    PauseFleet,
    ResumeFleet,
    SetFloor,
    StartRetrain,
    UncordonPool,
    UnknownTargetError,
)
from reconciler.core.settings import FleetTarget

__all__ = ["DRAIN_REQUEST_S", "Operator"]

log = logging.getLogger(__name__)

# A drain asked for is in force this long: its node is gone long before, unless the fleet is
# paused or in shadow mode, where a drain left waiting would surprise whoever resumes it.
DRAIN_REQUEST_S = 3600.0


class Operator:
    """Each fleet's controls: validated, recorded with their reason, in memory and in the
    history. ``apply`` changes them; the daemon carries out what follows (a reconcile for a
    drain, the retrain job)."""

    def __init__(
        self, ledger: Ledger, fleets: Sequence[FleetTarget], clock: Callable[[], datetime]
    ) -> None:
        self._ledger = ledger
        self._fleets = {f.name: f for f in fleets}
        self._clock = clock
        self._lock = threading.Lock()
        self._controls: dict[str, FleetControls] = {}
        for name in self._fleets:
            raw = ledger.get_state(state_key(name))
            self._controls[name] = (
                FleetControls.model_validate(raw) if raw is not None else FleetControls()
            )

    def controls(self, fleet: str, now: datetime) -> FleetControls:
        """The fleet's controls in force at ``now`` (memory only)."""
        return self._controls.get(fleet, FleetControls()).in_force(now)

    def fleet(self, name: str) -> FleetTarget:
        found = self._fleets.get(name)
        if found is None:
            known = ", ".join(sorted(self._fleets)) or "none"
            raise UnknownTargetError(f"unknown fleet {name!r}: this daemon runs {known}")
        return found

    def apply(self, command: Command, *, by: str) -> str:
        """Change the controls as ``command`` says and record it; what was done, in words."""
        now = self._clock()
        if isinstance(command, StartRetrain):
            log.info("operator retrain: %s (by %s)", command.reason, by)
            self._ledger.note(
                "retrain_request", fleet="*", now=now, status="applied",
                detail=f"{command.reason} (by {by})",
            )  # fmt: skip
            return "retrain started"
        fleet = self.fleet(command.fleet)
        with self._lock:
            current = self._controls[fleet.name].in_force(now)
            updated, kind, target, said = _change(current, command, fleet, self._ledger, now, by)
            self._ledger.set_state(state_key(fleet.name), updated.model_dump(mode="json"), now)
            self._controls[fleet.name] = updated
        fields = {"fleet": fleet.name}  # as JSON fields, where they apply
        if target and isinstance(command, CordonPool | UncordonPool):
            fields["pool"] = target
        if target and isinstance(command, DrainNode):
            fields["instance_id"] = target
        log.info(
            "operator %s on fleet %s%s: %s (%s, by %s)", kind, fleet.name,
            f" {target}" if target else "", said, command.reason, by,
            extra=fields,
        )  # fmt: skip
        self._ledger.note(
            kind, fleet=fleet.name, now=now, status="applied", target=target,
            detail=f"{said}: {command.reason} (by {by})",
        )  # fmt: skip
        return said


def _change(
    c: FleetControls,
    command: Command,
    fleet: FleetTarget,
    ledger: Ledger,
    now: datetime,
    by: str,
) -> tuple[FleetControls, str, str | None, str]:
    """The controls after ``command``, the action's kind and target, and what it did."""
    why = command.reason
    match command:
        case PauseFleet():
            return (
                c.model_copy(update={"paused": Paused(reason=why, by=by, since=now)}),
                "pause",
                None,
                "paused",
            )
        case ResumeFleet():
            said = "resumed" if c.paused is not None else "resumed (it was not paused)"
            return c.model_copy(update={"paused": None}), "resume", None, said
        case CordonPool(pool=pool, for_s=for_s):
            _candidate(fleet, pool)
            until = now + timedelta(seconds=for_s)
            kept = tuple(x for x in c.cordons if x.pool != pool)
            cordon = CordonedPool(pool=pool, until=until, reason=why, by=by, since=now)
            said = f"cordoned until {until:%Y-%m-%d %H:%M:%S}Z"
            return c.model_copy(update={"cordons": (*kept, cordon)}), "cordon", pool, said
        case UncordonPool(pool=pool):
            _candidate(fleet, pool)
            kept = tuple(x for x in c.cordons if x.pool != pool)
            said = "uncordoned" if len(kept) < len(c.cordons) else "uncordoned (it was not)"
            return c.model_copy(update={"cordons": kept}), "uncordon", pool, said
        case DrainNode(instance_id=node):
            live = {n.instance_id for n in ledger.live_nodes(fleet.name, warned_since=now)}
            if node not in live:
                raise UnknownTargetError(
                    f"unknown node {node!r}: not a live node of fleet {fleet.name} "
                    "(GET /nodes?fleet= lists them)"
                )
            until = now + timedelta(seconds=DRAIN_REQUEST_S)
            others = tuple(x for x in c.drains if x.instance_id != node)
            drain = RequestedDrain(instance_id=node, until=until, reason=why, by=by, since=now)
            updated = c.model_copy(update={"drains": (*others, drain)})
            return updated, "drain_request", node, "drain requested"
        case SetFloor(min_nodes=n, for_s=for_s):
            if n > fleet.max_nodes:
                raise InvalidCommandError(
                    f"a floor of {n} nodes is above fleet {fleet.name}'s max_nodes "
                    f"{fleet.max_nodes}: ask for at most {fleet.max_nodes}",
                    field="min_nodes",
                )
            until = now + timedelta(seconds=for_s)
            floor = NodeFloor(min_nodes=n, until=until, reason=why, by=by, since=now)
            said = f"at least {n} nodes until {until:%Y-%m-%d %H:%M:%S}Z"
            return c.model_copy(update={"floor": floor}), "floor", str(n), said
        case ClearFloor():
            said = "floor cleared" if c.floor is not None else "floor cleared (there was none)"
            return c.model_copy(update={"floor": None}), "floor_cleared", None, said
    raise InvalidCommandError(f"not a fleet command: {command!r}", field="body")


def _candidate(fleet: FleetTarget, pool: str) -> None:
    try:
        Pool.parse(pool)
    except ValueError as exc:
        raise InvalidCommandError(str(exc), field="pool") from exc
    if pool not in fleet.pools():
        raise UnknownTargetError(
            f"unknown pool {pool!r}: not a candidate pool of fleet {fleet.name} "
            f"({', '.join(sorted(fleet.pools()))})"
        )
