"""What each node cost and how it ended, for the history's cost queries.

``hourly_price`` is the price the node was launched at: its pool's last spot price at or before
the launch (the first one after, when the history starts later) for a spot node, the on-demand
list price of its type and region for an on-demand one. It is set once and never restated, so
``query savings`` and ``query cost-per-image`` charge each node what it cost when it started,
as the embedded default's summary does.

``termination_reason`` is EC2's own (``StateReason``, e.g. "Server.SpotInstanceTermination:
Spot instance termination") where EC2 still describes the instance, else the last interruption
event recorded about it, else "left the group".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import duckdb

__all__ = ["LEFT_THE_GROUP", "price_new_nodes", "termination_reason"]

LEFT_THE_GROUP = "left the group"

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


def price_new_nodes(con: duckdb.DuckDBPyConnection, fleet: str) -> None:
    """Set the launch price of the fleet's nodes that have none yet (where one is known)."""
    con.execute(_PRICE_AT_LAUNCH, [fleet])


def termination_reason(
    instance: Mapping[str, Any] | None, last_event: tuple[str, str | None] | None
) -> str:
    """Why a node that left the group ended (pure): EC2's reason, the event, or neither."""
    if instance is not None:
        reason = instance.get("StateReason")
        message = reason.get("Message") if isinstance(reason, Mapping) else None
        if isinstance(message, str) and message:
            return message
    if last_event is not None:
        kind, detail = last_event
        what = kind.replace("_", " ")
        return f"{what} ({detail})" if detail else what
    return LEFT_THE_GROUP
