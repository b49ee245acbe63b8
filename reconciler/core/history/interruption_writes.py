"""The interruption collector's writes: events about the daemon's own instances, and what a
reaction to them needs to know (was the event already recorded, its pool, its node's state).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from analytics.events import InterruptionEvent
from analytics.ingest.events import record_events
from reconciler.core.history.ledger import Ledger

__all__ = ["RecordedEvents", "record_own_events", "record_unparseable"]


@dataclass(frozen=True, slots=True)
class RecordedEvents:
    recorded: int  # events new to the history
    known: frozenset[str]  # ids of the events it held already: redeliveries, which reacted
    pools: Mapping[str, str | None]  # event id -> its pool as recorded (from its node if none)
    node_states: Mapping[str, str | None]  # event id -> its instance's state in ``nodes``


def record_own_events(ledger: Ledger, events: Sequence[InterruptionEvent]) -> RecordedEvents:
    """Record the events not yet recorded (by id), under one lock with the lookups around."""
    # Point lookups by the primary key: the table also holds millions of trace events.
    lookup = "SELECT pool FROM interruption_events WHERE event_id = ?"
    state = "SELECT state FROM nodes WHERE instance_id = ?"
    with ledger._con() as con:
        known = frozenset(
            e.event_id for e in events if con.execute(lookup, [e.event_id]).fetchall()
        )
        recorded = record_events(ledger.history, events)
        pools = {
            e.event_id: (con.execute(lookup, [e.event_id]).fetchall() or [(None,)])[0][0]
            for e in events
        }
        states = {
            e.event_id: (con.execute(state, [e.instance_id]).fetchall() or [(None,)])[0][0]
            for e in events
        }
    return RecordedEvents(recorded, known, pools, states)


def record_unparseable(ledger: Ledger, event: InterruptionEvent) -> int:
    """Keep a message that could not be parsed, raw (``analytics.events.unparseable_event``)."""
    with ledger.writing() as history:
        return record_events(history, [event])
