"""What bad news does to placement, as data: a pure map from events to reactions.

Like Karpenter's unavailable-offerings cache: a spot interruption warning makes its pool
risky for ``risky_mark_s`` and asks for a replacement elsewhere at once; a rebalance
recommendation raises the pool's risk for as long, and drains nothing by itself. The marks
are derived from the events in the history, so a restart keeps them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from analytics.events import InterruptionEvent, Kind
from reconciler.daemon.settings import SafetySettings

__all__ = ["Mark", "Reaction", "marks_in_force", "react"]


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


def react(event: InterruptionEvent) -> Reaction | None:
    if event.pool is None:
        return None
    if event.kind is Kind.SPOT_INTERRUPTION_WARNING:
        return Reaction(event.event_id, event.pool, event.instance_id, replace_now=True)
    if event.kind is Kind.REBALANCE_RECOMMENDATION:
        return Reaction(event.event_id, event.pool, event.instance_id, replace_now=False)
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
