"""What bad news does to placement, as data: a pure map from events to reactions.

Like Karpenter's interruption controller: an instance about to be lost (a spot interruption
warning, a capacity reservation interruption warning, an AWS Health scheduled change to it,
a state change to stopping, stopped, shutting-down or terminated) asks for a replacement at
once and a drain of the node by its deadline. A rebalance recommendation raises the pool's
risk and drains nothing. A spot warning also makes its pool risky for ``risky_mark_s`` (as
Karpenter's unavailable-offerings cache); the marks are derived from the events in the
history, so a restart keeps them.

Stale news acts on nothing: an event is acted on only before ``act_by`` (its own deadline:
a warning's termination time, a scheduled change's start; ``STALE_AFTER`` after the event
for a state change or a rebalance recommendation, as Karpenter keeps its queue's messages
300 s). A stale event is still recorded.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from analytics.events import InterruptionEvent
from analytics.kinds import Kind
from reconciler.core.settings import SafetySettings

__all__ = [
    "LOST_STATES",
    "STALE_AFTER",
    "UNTIL_DEADLINE",
    "Mark",
    "Reaction",
    "act_by",
    "marks_in_force",
    "react",
]

STALE_AFTER = timedelta(seconds=300)
# The states in which an instance is going or gone (Karpenter's statechange parser's set).
LOST_STATES = frozenset({"stopping", "stopped", "shutting-down", "terminated"})
# Kinds whose deadline is when the instance goes: acting after it is too late.
UNTIL_DEADLINE = frozenset(
    {
        Kind.SPOT_INTERRUPTION_WARNING,
        Kind.CAPACITY_RESERVATION_INTERRUPTION_WARNING,
        Kind.SCHEDULED_CHANGE,
    }
)


@dataclass(frozen=True, slots=True)
class Mark:
    pool: str
    loss: float  # the loss probability the planner takes for the pool while marked
    until: datetime
    reason: str
    warned: bool  # an interruption warning (the pool's nodes are about to go), not advice


@dataclass(frozen=True, slots=True)
class Reaction:
    event_id: str
    pool: str
    instance_id: str | None
    replace_now: bool  # reconcile at once rather than at the next cadence
    drain: bool = False  # drain the node: it is going, and may not hear a notice itself
    deadline: datetime | None = None  # UTC, naive: the node is gone by then
    why: str = ""


def act_by(event: InterruptionEvent) -> datetime:
    """The moment after which acting on ``event`` is pointless."""
    if event.kind in UNTIL_DEADLINE and event.deadline is not None:
        return event.deadline
    return event.ts + STALE_AFTER


def _loses_instance(event: InterruptionEvent, node_state: str | None) -> bool:
    if event.kind is Kind.INSTANCE_STATE_CHANGE:
        # The group taking the node out (scale-in, our own drain) is no loss to replace.
        leaving = node_state is not None and node_state.startswith("Terminating")
        return (event.detail or "").lower() in LOST_STATES and not leaving
    return event.kind in UNTIL_DEADLINE


def react(
    event: InterruptionEvent,
    *,
    now: datetime,
    node_state: str | None = None,
    grace: timedelta = timedelta(0),
) -> Reaction | None:
    """The reaction to one event about the fleet's own instance at ``now`` (UTC, naive), or
    None. ``node_state`` is the node's last known state in the history (its group lifecycle
    state), where known; ``grace`` is ``safety.event_grace_s``."""
    if event.pool is None or now >= act_by(event) + grace:
        return None
    if _loses_instance(event, node_state):
        deadline = event.deadline if event.kind in UNTIL_DEADLINE else now
        what = event.kind.value.replace("_", " ")
        why = f"{what} ({event.detail})" if event.detail else what
        return Reaction(
            event.event_id,
            event.pool,
            event.instance_id,
            replace_now=True,
            drain=True,
            deadline=max(deadline or now, now),
            why=why,
        )
    if event.kind is Kind.REBALANCE_RECOMMENDATION:
        return Reaction(
            event.event_id,
            event.pool,
            event.instance_id,
            replace_now=False,
            why="rebalance recommendation",
        )
    return None


def marks_in_force(
    events: Iterable[tuple[str, str, datetime]], *, now: datetime, settings: SafetySettings
) -> dict[str, Mark]:
    """The strongest live mark per pool from (pool, kind, ts) of recent events."""
    ttl = timedelta(seconds=settings.risky_mark_s)
    out: dict[str, Mark] = {}
    for pool, kind, ts in events:
        until = ts + ttl
        if until <= now:
            continue
        if kind == Kind.SPOT_INTERRUPTION_WARNING:
            loss, what = settings.warning_loss, "spot interruption warning"
        elif kind == Kind.REBALANCE_RECOMMENDATION:
            loss, what = settings.rebalance_loss, "rebalance recommendation"
        else:
            continue
        warned = kind == Kind.SPOT_INTERRUPTION_WARNING
        why = f"{what} at {ts:%H:%M:%S}Z: risky until {until:%H:%M:%S}Z"
        mark = Mark(pool, loss, until, why, warned)
        held = out.get(pool)
        if held is None or (mark.warned, mark.loss, mark.until) > (
            held.warned,
            held.loss,
            held.until,
        ):
            out[pool] = mark
    return out
