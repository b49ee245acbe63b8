from __future__ import annotations

import numpy as np
import pytest

from reconciler.embedded.market import ZonePrice, build_market

ON_DEMAND = {"g5.xlarge": 1.006, "g5.2xlarge": 1.212}
PRICES = [
    ZonePrice("us-east-1", "use1-az2", "g5.xlarge", 0.34),
    ZonePrice("us-east-1", "use1-az2", "g5.xlarge", 0.36),  # two observations: the median
    ZonePrice("us-east-1", "use1-az4", "g5.xlarge", 0.30),
    ZonePrice("us-east-1", "use1-az1", "g5.2xlarge", 0.40),
    ZonePrice("us-west-2", "usw2-az1", "g5.xlarge", 0.50),
    ZonePrice("eu-west-1", "euw1-az1", "g5.2xlarge", 9.99),  # not a US zone: never a fallback
]


def trace(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.int32)


def test_zones_are_dealt_types_in_turn_and_matched_to_priced_zone_ids_in_order() -> None:
    traces = {
        z: trace(1, 0)
        for z in ("us-east-1a", "us-east-1c", "us-east-1d", "us-east-1f", "us-east-2a")
    }
    market = build_market(traces, PRICES, ON_DEMAND)
    got = [(str(m.pool), m.spot_price, m.priced_from) for m in market]
    assert got == [
        ("us-east-1/us-east-1a/g5.xlarge", pytest.approx(0.35), "use1-az2"),
        ("us-east-1/us-east-1c/g5.2xlarge", 0.40, "use1-az1"),
        ("us-east-1/us-east-1d/g5.xlarge", 0.30, "use1-az4"),
        ("us-east-1/us-east-1f/g5.2xlarge", 0.40, "use1-az1"),  # fewer zone IDs than zones: cycles
        # No g5.xlarge price in us-east-2: the US median of the type (0.34, 0.36, 0.30, 0.50).
        ("us-east-2/us-east-2a/g5.xlarge", pytest.approx(0.35), "US median"),
    ]
    assert [m.on_demand_price for m in market] == [1.006, 1.212, 1.006, 1.212, 1.006]
    assert market[0].capacity.tolist() == [1, 0]


def test_a_type_without_prices_is_refused() -> None:
    with pytest.raises(ValueError, match="g5.4xlarge"):
        build_market({"us-east-1a": trace(1)}, PRICES, ON_DEMAND, types=("g5.4xlarge",))
