"""The status page's cost query against a hand-built history with known numbers."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from reconciler.core.history.cost_reads import fleet_cost
from reconciler.core.history.ledger import Ledger

from .conftest import T0

NOW = T0.replace(tzinfo=None)
A = "us-east-1/us-east-1a/g5.xlarge"
B = "us-east-1/us-east-1b/g5.xlarge"
XL2 = "us-east-1/us-east-1a/g5.2xlarge"
P4 = "us-east-1/us-east-1a/p4d.24xlarge"


def h(hours: float) -> datetime:
    return NOW - timedelta(hours=hours)


def node(
    ledger: Ledger,
    instance_id: str,
    pool: str,
    *,
    launched: datetime | None,
    terminated: datetime | None = None,
    lifecycle: str = "spot",
    hourly_price: float | None = None,
    fleet: str = "gen",
) -> None:
    ledger.history.con.execute(
        "INSERT INTO nodes (instance_id, fleet, pool, lifecycle, state, launched_at, "
        "terminated_at, hourly_price, observed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            instance_id,
            fleet,
            pool,
            lifecycle,
            "terminated" if terminated else "InService",
            launched,
            terminated,
            hourly_price,
            NOW,
        ],
    )


def spot_price(
    ledger: Ledger, pool: str, at: datetime, price: float, product: str = "Linux/UNIX"
) -> None:
    region, zone, itype = pool.split("/")
    ledger.history.con.execute(
        "INSERT INTO spot_prices (region, zone, instance_type, product, ts, price, source) "
        "VALUES (?, ?, ?, ?, ?, ?, 'test')",
        [region, zone, itype, product, at, price],
    )


@pytest.fixture
def market(ledger: Ledger) -> Ledger:
    spot_price(ledger, A, h(20), 0.30)
    spot_price(ledger, A, h(5), 0.50)  # after A's launch: not its rate
    spot_price(ledger, A, h(11), 9.99, product="Windows")  # another product: never read
    spot_price(ledger, B, h(1), 0.25)  # only after D's launch: D takes the latest
    od = "INSERT INTO on_demand_prices VALUES ('us-east-1', ?, ?, ?, ?, 'test')"
    ledger.history.con.execute(od, ["g5.xlarge", "Linux", datetime(2000, 1, 1), 1.006])
    ledger.history.con.execute(od, ["g5.xlarge", "Linux", NOW + timedelta(days=1), 2.0])  # not yet
    ledger.history.con.execute(od, ["g5.xlarge", "Windows", datetime(2000, 1, 1), 3.0])
    return ledger


def test_cost_so_far_prices_each_node_hour_and_compares_with_on_demand(market: Ledger) -> None:
    node(market, "i-a", A, launched=h(10))  # 10 h at 0.30 (price at launch) = 3.00; od 10.06
    node(market, "i-b", A, launched=h(6), terminated=h(2), hourly_price=0.40)  # 4 h: 1.60; 4.024
    node(market, "i-c", XL2, launched=h(2), lifecycle="on-demand")  # 2 h at 1.212 (settings)
    node(market, "i-d", B, launched=h(3))  # no price at launch: latest 0.25 -> 0.75; od 3.018
    node(market, "i-e", P4, launched=h(5))  # no spot nor on-demand price: 5 h unpriced
    node(market, "i-f", A, launched=None)  # never launched: no hours
    node(market, "i-g", A, launched=h(8), fleet="other")  # another fleet's

    cost = fleet_cost(market, "gen", now=T0, on_demand_fallback={"g5.2xlarge": 1.212})

    assert cost.spot_node_hours == pytest.approx(10 + 4 + 3 + 5)
    assert cost.on_demand_node_hours == pytest.approx(2)
    assert cost.cost_usd == pytest.approx(3.00 + 1.60 + 2.424 + 0.75)
    assert cost.all_on_demand_usd == pytest.approx(10.06 + 4.024 + 2.424 + 3.018)
    assert cost.unpriced_node_hours == pytest.approx(5)
    assert cost.ratio == pytest.approx(7.774 / 19.526)


def test_the_history_table_wins_over_the_settings_and_hours_stop_at_now(market: Ledger) -> None:
    node(market, "i-a", A, launched=h(2), lifecycle="on-demand")
    node(market, "i-late", A, launched=NOW + timedelta(hours=1))  # after the daemon's clock
    node(market, "i-ends-later", A, launched=h(1), terminated=NOW + timedelta(hours=3))

    cost = fleet_cost(market, "gen", now=T0, on_demand_fallback={"g5.xlarge": 5.0})

    assert cost.on_demand_node_hours == pytest.approx(2)
    assert cost.spot_node_hours == pytest.approx(1)
    assert cost.cost_usd == pytest.approx(2 * 1.006 + 1 * 0.50)
    assert cost.all_on_demand_usd == pytest.approx(3 * 1.006)


def test_a_fleet_without_nodes_has_cost_nothing(ledger: Ledger) -> None:
    cost = fleet_cost(ledger, "gen", now=T0, on_demand_fallback={})
    assert (cost.cost_usd, cost.all_on_demand_usd, cost.unpriced_node_hours) == (0, 0, 0)
    assert cost.ratio is None
