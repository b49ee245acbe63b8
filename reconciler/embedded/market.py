"""The demo's spot market: real capacity traces, replayed as g5 pools at real prices.

How the public data becomes a g5 market (the traces were recorded for p3/p2/r5 types, the
prices are for every type, and zone names differ per account, so some matching is needed):

- **Pools.** Each traced zone becomes one g5 pool, its capacity the zone's trace. The demo's
  types (g5.xlarge, g5.2xlarge) are dealt to the zones in name order, in turn, so the fleet has
  pools of both sizes in every region the traces cover.
- **Zones → zone IDs.** The price snapshot names zones by ID (``use1-az4``). Zone names map to
  IDs differently in every account, so no mapping is "right": within a region, the traced zone
  names (in order) are matched to the zone IDs that have a price for the pool's type (in order),
  cycling when there are fewer IDs than names.
- **Spot price.** The matched zone ID's median spot price on 2022-05-31 (Linux). Where the
  snapshot has no price for the type in that region, the type's median over every US zone.
- **On-demand.** The type's list price (``data/on-demand-g5.json``).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from analytics.pools import Pool, region_of_zone

__all__ = ["DEMO_TYPES", "MarketPool", "ZonePrice", "build_market"]

DEMO_TYPES = ("g5.xlarge", "g5.2xlarge")


@dataclass(frozen=True, slots=True)
class ZonePrice:
    """One spot price observation of the snapshot, by zone ID."""

    region: str
    zone_id: str
    instance_type: str
    price: float


@dataclass(frozen=True)
class MarketPool:
    pool: Pool
    capacity: npt.NDArray[np.int32]
    spot_price: float
    on_demand_price: float
    priced_from: str  # the zone ID whose price it took, or 'US median'


def _median_by(
    prices: Sequence[ZonePrice],
) -> tuple[dict[tuple[str, str], dict[str, float]], dict[str, float]]:
    by_zone: dict[tuple[str, str], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    by_type: dict[str, list[float]] = defaultdict(list)
    for p in prices:
        by_zone[(p.region, p.instance_type)][p.zone_id].append(p.price)
        if p.region.startswith("us-"):
            by_type[p.instance_type].append(p.price)
    zones = {
        key: {zone: statistics.median(values) for zone, values in sorted(ids.items())}
        for key, ids in by_zone.items()
    }
    return zones, {t: statistics.median(v) for t, v in by_type.items()}


def build_market(
    traces: Mapping[str, npt.NDArray[np.int32]],
    prices: Sequence[ZonePrice],
    on_demand: Mapping[str, float],
    types: Sequence[str] = DEMO_TYPES,
) -> list[MarketPool]:
    """``traces`` maps a zone name to its capacity series; returns the pools, by zone name."""
    zone_prices, us_median = _median_by(prices)
    missing = [t for t in types if t not in on_demand or t not in us_median]
    if missing:
        raise ValueError(f"no on-demand or US spot price for {', '.join(missing)}")
    seen_in_region: dict[tuple[str, str], int] = defaultdict(int)
    market = []
    for index, zone in enumerate(sorted(traces)):
        instance_type = types[index % len(types)]
        region = region_of_zone(zone)
        candidates = zone_prices.get((region, instance_type), {})
        if candidates:
            position = seen_in_region[(region, instance_type)]
            seen_in_region[(region, instance_type)] += 1
            zone_id = list(candidates)[position % len(candidates)]
            price, source = candidates[zone_id], zone_id
        else:
            price, source = us_median[instance_type], "US median"
        market.append(
            MarketPool(
                pool=Pool(region, zone, instance_type),
                capacity=traces[zone],
                spot_price=price,
                on_demand_price=on_demand[instance_type],
                priced_from=source,
            )
        )
    return market
