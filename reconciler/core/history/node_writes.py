"""The fleet collector's writes to ``nodes``: the groups' members, their launch price, and how
the ones that left the group ended.

``hourly_price`` is the price a node was launched at: its pool's last spot price at or before
the launch (the first one after, when the history starts later) for a spot node, the
on-demand list price of its type and region for an on-demand one. It is set once and never
restated, so ``query savings`` and ``query cost-per-image`` charge each node what it cost when
it started, as the embedded default's summary does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from reconciler.core.history.ledger import Ledger, naive

__all__ = ["LastEvent", "ObservedNode", "last_events_about", "mark_terminated", "record_members"]


@dataclass(frozen=True, slots=True)
class ObservedNode:
    """A member of one of the fleet's groups, as the collector saw it."""

    instance_id: str
    pool: str  # region/zone/type
    lifecycle: str  # 'spot' or 'on-demand'
    state: str  # the group's lifecycle state ('InService', 'Pending', ...)
    launched_at: datetime | None
    ready_at: datetime | None  # now, for a member in service (kept from its first time)


@dataclass(frozen=True, slots=True)
class LastEvent:
    """The last interruption event recorded about an instance."""

    kind: str
    detail: str | None


_UPSERT = (
    "INSERT INTO nodes (instance_id, fleet, pool, lifecycle, state, launched_at, "
    "ready_at, observed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (instance_id) DO UPDATE "
    "SET state = excluded.state, pool = excluded.pool, "
    "ready_at = coalesce(nodes.ready_at, excluded.ready_at), "
    "observed_at = excluded.observed_at"
)
_POOL_PARTS = (
    "s.region = split_part(n.pool, '/', 1) AND s.zone = split_part(n.pool, '/', 2) "
    "AND s.instance_type = split_part(n.pool, '/', 3) AND s.product = 'Linux/UNIX'"
)
_PRICE_AT_LAUNCH = f"""
UPDATE nodes AS n SET hourly_price = CASE WHEN n.lifecycle = 'spot' THEN coalesce(
    (SELECT arg_max(s.price, s.ts) FROM spot_prices s
     WHERE {_POOL_PARTS} AND s.ts <= n.launched_at),
    (SELECT arg_min(s.price, s.ts) FROM spot_prices s WHERE {_POOL_PARTS}))
  ELSE (SELECT arg_max(o.price, o.effective_at) FROM on_demand_prices o
        WHERE o.region = split_part(n.pool, '/', 1) AND o.instance_type = split_part(n.pool, '/', 3)
          AND o.operating_system = 'Linux' AND o.effective_at <= n.launched_at)
  END
WHERE n.fleet = ? AND n.hourly_price IS NULL AND n.launched_at IS NOT NULL
"""


def record_members(
    ledger: Ledger, fleet: str, members: Sequence[ObservedNode], *, now: datetime
) -> list[str]:
    """Upsert the fleet's group members, set the launch price of those that have none yet
    (where one is known); returns the fleet's nodes not terminated that are no member now."""
    rows = [
        (
            m.instance_id,
            fleet,
            m.pool,
            m.lifecycle,
            m.state,
            None if m.launched_at is None else naive(m.launched_at),
            None if m.ready_at is None else naive(m.ready_at),
            naive(now),
        )
        for m in members
    ]
    with ledger._con() as con:
        if rows:
            con.executemany(_UPSERT, rows)
        con.execute(_PRICE_AT_LAUNCH, [fleet])
        gone = con.execute(
            "SELECT instance_id FROM nodes WHERE fleet = ? AND state != 'terminated' "
            "AND NOT list_contains(?, instance_id)",
            [fleet, [m.instance_id for m in members]],
        ).fetchall()
    return [str(r[0]) for r in gone]


def last_events_about(ledger: Ledger, instance_ids: Sequence[str]) -> dict[str, LastEvent]:
    """instance id -> the last interruption event recorded about it, for those with one."""
    found: dict[str, LastEvent] = {}
    with ledger._con() as con:
        for instance_id in instance_ids:
            rows = con.execute(
                "SELECT kind, detail FROM interruption_events WHERE instance_id = ? "
                "ORDER BY ts DESC LIMIT 1",
                [instance_id],
            ).fetchall()
            if rows:
                found[instance_id] = LastEvent(str(rows[0][0]), rows[0][1])
    return found


def mark_terminated(ledger: Ledger, reasons: Mapping[str, str], *, now: datetime) -> None:
    """Mark the nodes terminated at ``now`` (kept, not deleted), each with why it ended."""
    with ledger._con() as con:
        for instance_id, reason in reasons.items():
            con.execute(
                "UPDATE nodes SET state = 'terminated', terminated_at = ?, observed_at = ?, "
                "termination_reason = ? WHERE instance_id = ?",
                [naive(now), naive(now), reason, instance_id],
            )
