"""What a fleet's nodes have cost so far, against the same node-hours all on-demand.

One query, so the rule lives in one place. A node counts from ``launched_at`` to
``terminated_at`` (or now, if it still runs). Its rate, first found wins:

* ``nodes.hourly_price``, where the collector knew what the node is billed;
* a spot node: its pool's Linux spot price in force at launch (the last ``spot_prices`` row at
  or before ``launched_at``), else the pool's latest price (a node launched before the history
  saw its pool). The price at launch, not integrated over the node's life: spot prices move
  little within a node's hours, and this keeps the read to one as-of join;
* an on-demand node: the on-demand price below.

The on-demand price of a node: ``on_demand_prices`` for its region and type (Linux, the
latest in effect now), else the fleet settings' price for its type.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from reconciler.core.history.ledger import Ledger, naive

__all__ = ["FleetCost", "fleet_cost"]


@dataclass(frozen=True, slots=True)
class FleetCost:
    """What the fleet's node-hours cost, against the same hours all on-demand. Hours lacking
    either price are left out of both sums (and counted apart), so the ratio stays honest."""

    spot_node_hours: float
    on_demand_node_hours: float
    cost_usd: float
    all_on_demand_usd: float
    unpriced_node_hours: float

    @property
    def ratio(self) -> float | None:
        return self.cost_usd / self.all_on_demand_usd if self.all_on_demand_usd > 0 else None


_COST_SQL = """
WITH params AS (SELECT ?::TIMESTAMP AS now),
n AS (
    SELECT lifecycle, hourly_price, launched_at,
           split_part(pool, '/', 1) AS region,
           split_part(pool, '/', 2) AS zone,
           split_part(pool, '/', 3) AS instance_type,
           greatest(date_diff('microsecond', launched_at,
                              least(coalesce(terminated_at, now), now)), 0) / 3.6e9 AS hours
    FROM nodes, params
    WHERE fleet = ? AND launched_at IS NOT NULL AND launched_at < now
),
-- Only the fleet's pools, on the short key columns (not the computed pool name).
spot AS (
    SELECT s.region, s.zone, s.instance_type, s.ts, s.price
    FROM spot_prices s
    SEMI JOIN (SELECT DISTINCT region, zone, instance_type FROM n) p
        ON s.region = p.region AND s.zone = p.zone AND s.instance_type = p.instance_type
    WHERE s.product = 'Linux/UNIX' AND s.ts <= (SELECT now FROM params)
),
latest_spot AS (
    SELECT region, zone, instance_type, arg_max(price, ts) AS price
    FROM spot GROUP BY ALL
),
od AS (
    SELECT region, instance_type, arg_max(price, effective_at) AS price
    FROM on_demand_prices
    WHERE operating_system = 'Linux' AND effective_at <= (SELECT now FROM params)
    GROUP BY ALL
),
fallback AS (
    SELECT unnest(?::VARCHAR[]) AS instance_type, unnest(?::DOUBLE[]) AS price
),
rated AS (
    SELECT n.lifecycle, n.hours,
           coalesce(od.price, fallback.price) AS od_rate,
           coalesce(
               n.hourly_price,
               CASE WHEN n.lifecycle = 'spot' THEN coalesce(at_launch.price, latest_spot.price)
                    ELSE coalesce(od.price, fallback.price) END
           ) AS rate
    FROM n
    ASOF LEFT JOIN spot at_launch
        ON n.region = at_launch.region AND n.zone = at_launch.zone
        AND n.instance_type = at_launch.instance_type AND n.launched_at >= at_launch.ts
    LEFT JOIN latest_spot
        ON n.region = latest_spot.region AND n.zone = latest_spot.zone
        AND n.instance_type = latest_spot.instance_type
    LEFT JOIN od ON n.region = od.region AND n.instance_type = od.instance_type
    LEFT JOIN fallback ON n.instance_type = fallback.instance_type
)
SELECT
    coalesce(sum(hours) FILTER (WHERE lifecycle = 'spot'), 0),
    coalesce(sum(hours) FILTER (WHERE lifecycle != 'spot'), 0),
    coalesce(sum(hours * rate) FILTER (WHERE rate IS NOT NULL AND od_rate IS NOT NULL), 0),
    coalesce(sum(hours * od_rate) FILTER (WHERE rate IS NOT NULL AND od_rate IS NOT NULL), 0),
    coalesce(sum(hours) FILTER (WHERE rate IS NULL OR od_rate IS NULL), 0)
FROM rated
"""


def fleet_cost(
    ledger: Ledger, fleet: str, *, now: datetime, on_demand_fallback: Mapping[str, float]
) -> FleetCost:
    """``fleet``'s node-hours up to ``now`` (the daemon's clock) and what they cost;
    ``on_demand_fallback`` is the fleet settings' on-demand $/h by instance type."""
    rows = ledger._read_rows(
        _COST_SQL,
        [naive(now), fleet, list(on_demand_fallback), list(on_demand_fallback.values())],
    )
    spot_h, od_h, cost, all_od, unpriced = (float(v) for v in rows[0])
    return FleetCost(
        spot_node_hours=spot_h,
        on_demand_node_hours=od_h,
        cost_usd=cost,
        all_on_demand_usd=all_od,
        unpriced_node_hours=unpriced,
    )
