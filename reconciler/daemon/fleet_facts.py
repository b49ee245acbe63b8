"""Gather: every fact one reconcile of one fleet decides from, read once, before deciding.

The reads of a reconcile all happen here (the job backlog's K, operators' controls, the
fleet's live nodes, the risk marks in force, the fleet signals from the history, the guards'
state, the pools that refused a launch); the decision then runs on the frozen result alone
(``reconciler.control.FleetController``) and the records are written after it
(``reconciler.daemon.cycle``).

The market is read as the production signals alone (``read_signals``: placement scores, every
fleet's nodes held, warned and interrupted, launches tried and refused, prices), as the
backtest's planner sees it; the controller then plans with ``plan_signals`` and the prior/own
blend. No capacity number is read: on AWS the history holds only the price collector's guess.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from analytics.pools import Pool
from reconciler.control import FleetFacts, GuardState, HeldNode
from reconciler.control.types import GroupHolding
from reconciler.core.controls import FleetControls
from reconciler.core.errors import ReconcilerError
from reconciler.core.history.fleet_signals import read_signals
from reconciler.core.history.ledger import Ledger
from reconciler.core.history.market_series import recent_losses
from reconciler.core.reactions import Mark, marks_in_force
from reconciler.core.settings import DaemonSettings, FleetTarget, Mode
from reconciler.daemon.scaling import ScaleDecision
from reconciler.decide.adapter import declaration_of
from reconciler.decide.planner import PlannerSettings
from reconciler.decide.signal_model import PriorAndOwn

__all__ = ["ReconcileFacts", "gather", "held_nodes", "still_held", "unobserved"]


@dataclass(frozen=True)
class ReconcileFacts:
    """A reconcile's facts: what the controller decides from, and what the record says."""

    fleet: FleetTarget
    now: datetime
    mode: Mode
    demand: ScaleDecision
    controls: FleetControls
    marks: dict[str, Mark]
    decision: FleetFacts | None  # None: the market could not be read (``unreadable`` says why)
    unreadable: str | None = None


def held_nodes(
    ledger: Ledger,
    fleet: FleetTarget,
    settings: DaemonSettings,
    *,
    now: datetime,
    draining: frozenset[str],
    holding: Sequence[GroupHolding] = (),
) -> tuple[HeldNode, ...]:
    """The fleet's live nodes, a node AWS has warned about (or an operator is draining)
    marked as going; with ``holding`` (the groups as read now), less the nodes a group no
    longer holds (``still_held``) and plus what the groups hold that the history has not
    observed yet (``unobserved``)."""
    since = now - timedelta(seconds=settings.safety.risky_mark_s)
    cold = settings.cold_start_s
    nodes = []
    live = ledger.live_nodes(
        fleet.name, warned_since=since, now=now, grace_s=settings.safety.event_grace_s
    )
    for row in live:
        start = row.launched_at.timestamp() if row.launched_at is not None else 0.0
        pool = Pool.parse(row.pool) if row.lifecycle == "spot" and row.pool else None
        going = row.warned or row.instance_id in draining
        nodes.append(HeldNode(row.instance_id, pool, start, start + cold, going))
    held = still_held(nodes, holding)
    return (*held, *unobserved(held, holding, now=now.timestamp(), cold_start_s=cold))


def still_held(known: Sequence[HeldNode], holding: Sequence[GroupHolding]) -> tuple[HeldNode, ...]:
    """The history's nodes less those their group, read now, no longer holds: taken back or
    ended before the fleet observation saw them go. Counted with their replacement
    (``unobserved``), a reconcile would size the group one node too many. A node whose group
    was not read is kept: the history is all there is to go on."""
    members = {group.pool: set(group.instances) for group in holding}
    return tuple(n for n in known if n.pool not in members or n.instance_id in members[n.pool])


def unobserved(
    known: Sequence[HeldNode], holding: Sequence[GroupHolding], *, now: float, cold_start_s: float
) -> tuple[HeldNode, ...]:
    """The groups' members the history does not know yet, and the launches a group's desired
    capacity asks for that have no instance yet, as nodes launched now (not ready). Without
    them a reconcile right after one that launched sizes the groups as if it had not."""
    ids = {n.instance_id for n in known}
    out: list[HeldNode] = []
    for group in holding:
        new = [i for i in group.instances if i not in ids]
        pending = max(0, group.desired - len(group.instances))
        out += [HeldNode(i, group.pool, now, now + cold_start_s) for i in new]
        name = group.pool.name if group.pool is not None else "on-demand"
        out += [
            HeldNode(f"pending:{name}:{j}", group.pool, now, now + cold_start_s)
            for j in range(pending)
        ]
    return tuple(out)


def gather(
    fleet: FleetTarget,
    *,
    ledger: Ledger,
    settings: DaemonSettings,
    now: datetime,
    mode: Mode,
    demand: Callable[[FleetTarget, datetime], ScaleDecision],
    controls: Callable[[str, datetime], FleetControls],
    leader: Callable[[], bool],
    breaker_open: bool,
    model: PriorAndOwn | None,
    holding: Sequence[GroupHolding] = (),
) -> ReconcileFacts:
    """``holding``: what the groups hold now, read from Auto Scaling (``held_nodes``)."""
    safety = settings.safety
    fleet_controls = controls(fleet.name, now)
    scale = demand(fleet, now)
    nodes = held_nodes(
        ledger,
        fleet,
        settings,
        now=now,
        draining=fleet_controls.draining(now),
        holding=holding,
    )
    marks = marks_in_force(
        ledger.marks(now - timedelta(seconds=safety.risky_mark_s)), now=now, settings=safety
    )
    facts = ReconcileFacts(fleet, now, mode, scale, fleet_controls, marks, None)
    pools = fleet.pools()
    try:
        with ledger.reader() as con:
            signals = read_signals(
                con,
                until=now,
                lookback_s=settings.lookback_s,
                pools=pools,
                interval_s=settings.grid_s,
            )
            losses = recent_losses(con, pools=pools, until=now, window_s=PlannerSettings().alert_s)
    except ReconcilerError as exc:
        return dataclasses.replace(facts, unreadable=str(exc))
    market_at = ledger.freshest_market(pools, now - timedelta(seconds=settings.lookback_s))
    last_move = ledger.get_state(f"last_move:{fleet.name}")
    paused = fleet_controls.paused
    guards = GuardState(
        now=now.timestamp(),
        acting_mode=mode != "shadow",
        leader=leader(),
        breaker_open=breaker_open,
        market_age_s=(now - market_at).total_seconds() if market_at else None,
        last_move_at=float(last_move) if last_move is not None else None,
        drained_last_hour=ledger.drained_since(fleet.name, now - timedelta(hours=1)),
        budget_usd_per_hour=fleet.budget_usd_per_hour,
        paused=paused.reason if paused is not None else None,
    )
    # Pools an operator cordoned are unavailable too, until the cordon ends.
    unavailable = ledger.unavailable_pools(
        fleet.name, now - timedelta(seconds=safety.unavailable_s), safety.unavailable_s
    ) | fleet_controls.cordoned(now)
    decision = FleetFacts(
        fleet=declaration_of(fleet, scale.desired),
        series=None,
        recent_losses=losses,
        nodes=nodes,
        guards=guards,
        unavailable=unavailable,
        model=None,
        marks=marks,
        signals=signals,
        blend=model,
    )
    return ReconcileFacts(fleet, now, mode, scale, fleet_controls, marks, decision)
