"""The fleet collector writes what each node cost, when it was ready and why it ended, so
``query savings`` and ``query cost-per-image`` give the cost a history of nodes, prices and
jobs implies (issue 14 item 12). AWS is moto's server over HTTP."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from analytics.events import parse_envelope
from analytics.ingest.events import record_events
from analytics.ingest.prices import ingest_spot_price_pages
from analytics.queries import QueryResult, run_canned
from reconciler.collect.fleet import observe_fleet
from reconciler.collect.node_facts import LEFT_THE_GROUP, termination_reason
from reconciler.collect.prices import record_on_demand
from reconciler.core.history.ledger import Ledger
from tests.history_rows import history_rows

from .conftest import make_aws_fleet, warning_envelope

POOL = "us-east-1/us-east-1a/g5.xlarge"
ON_DEMAND = 1.006  # make_aws_fleet's on-demand price of g5.xlarge


def records(result: QueryResult) -> list[dict[str, Any]]:
    return [dict(zip(result.columns, row, strict=True)) for row in result.rows]


def hours(end: datetime, start: datetime) -> float:
    return (end - start).total_seconds() / 3600


def test_savings_and_cost_per_image_give_the_cost_the_history_implies(
    aws: str, ledger: Ledger
) -> None:
    f = make_aws_fleet(desired=0)
    # One node in the on-demand group (the group says what a node is), one spot node below.
    f.autoscaling.set_desired_capacity(
        AutoScalingGroupName=f.fleet.on_demand_group, DesiredCapacity=1
    )
    subnet = f.fleet.subnets["us-east-1a"]
    spot = f.ec2.run_instances(
        ImageId="ami-12c6146b", InstanceType="g5.xlarge", MinCount=1, MaxCount=1,
        SubnetId=subnet, InstanceMarketOptions={"MarketType": "spot"},
    )["Instances"][0]  # fmt: skip
    f.autoscaling.attach_instances(
        AutoScalingGroupName=f.fleet.spot_groups["us-east-1/us-east-1a/g5.xlarge"],
        InstanceIds=[spot["InstanceId"]],
    )
    launched = {
        i["InstanceId"]: i["LaunchTime"]
        for r in f.ec2.describe_instances()["Reservations"]
        for i in r["Instances"]
    }
    start = max(launched.values())  # moto launches at the real time: the clock follows it
    price = lambda ts, p: {  # noqa: E731
        "AvailabilityZone": "us-east-1a", "InstanceType": "g5.xlarge",
        "ProductDescription": "Linux/UNIX (Amazon VPC)", "SpotPrice": str(p), "Timestamp": ts,
    }  # fmt: skip
    ingest_spot_price_pages(
        ledger.history,
        [{"SpotPriceHistory": [price(start - timedelta(hours=1), 0.30),
                               price(start + timedelta(minutes=30), 0.90)]}],
        source="test",
    )  # fmt: skip
    record_on_demand(ledger, f.fleet)

    t1, t2, t3 = (start + timedelta(minutes=m) for m in (1, 60, 120))
    observe_fleet(ledger, f.autoscaling, f.ec2, f.fleet, now=t1)
    nodes = dict(history_rows(ledger, "SELECT instance_id, hourly_price FROM nodes"))
    assert nodes[spot["InstanceId"]] == 0.30  # the price at launch, not the later 0.90
    assert set(nodes.values()) == {0.30, ON_DEMAND}
    # AWS takes the spot node back (its warning in the history); the group replaces it
    [warning] = parse_envelope(warning_envelope(spot["InstanceId"], at=t2 - timedelta(minutes=2)))
    record_events(ledger.history, [warning])
    f.ec2.terminate_instances(InstanceIds=[spot["InstanceId"]])
    observe_fleet(ledger, f.autoscaling, f.ec2, f.fleet, now=t2)
    observe_fleet(ledger, f.autoscaling, f.ec2, f.fleet, now=t3)
    rows = history_rows(
        ledger,
        "SELECT instance_id, lifecycle, launched_at, ready_at, terminated_at, "
        "termination_reason, hourly_price FROM nodes ORDER BY launched_at, instance_id",
    )
    assert len(rows) == 3
    by_id = {r[0]: r for r in rows}
    ended = by_id[spot["InstanceId"]]
    assert ended[3:6] == (t1.replace(tzinfo=None), t2.replace(tzinfo=None),
                          "Client.UserInitiatedShutdown: User initiated shutdown")  # fmt: skip
    # The spot group relaunches in place (moto, seconds after the start): a spot node at the
    # price then, 0.30.
    replacement = next(r for r in rows if r[0] not in launched)
    assert replacement[1] == "spot" and replacement[3] == t2.replace(tzinfo=None)
    assert replacement[6] == 0.30
    with ledger.lock:
        ledger.history.con.executemany(
            "INSERT INTO jobs (job_id, fleet, state, seconds, updated_at) "
            "VALUES (?, 'gen', ?, 2.0, ?)",
            [(f"j{n}", "completed" if n < 8 else "dead_lettered", t3.replace(tzinfo=None))
             for n in range(10)],
        )  # fmt: skip

    # what the history implies, from moto's launch times and the prices above
    end = t3.replace(tzinfo=None)
    on_demand_nodes = [r for r in rows if r[1] == "on-demand"]
    spot_hours = hours(t2.replace(tzinfo=None), ended[2]) + hours(end, replacement[2])
    cost = 0.30 * spot_hours + sum(ON_DEMAND * hours(end, r[2]) for r in on_demand_nodes)
    all_on_demand = ON_DEMAND * (spot_hours + sum(hours(end, r[2]) for r in on_demand_nodes))
    [savings] = records(run_canned(ledger.history.con, "savings"))
    assert savings["fleet"] == "gen"
    assert savings["cost"] == pytest.approx(cost, rel=1e-9)
    assert savings["on_demand_cost"] == pytest.approx(all_on_demand, rel=1e-9)
    assert savings["savings_fraction"] == pytest.approx(1 - cost / all_on_demand, rel=1e-9)
    [per_image] = records(run_canned(ledger.history.con, "cost-per-image"))
    assert (per_image["images"], per_image["dead_lettered"]) == (8, 2)
    assert per_image["cost"] == pytest.approx(cost, rel=1e-9)
    assert per_image["cost_per_image"] == pytest.approx(cost / 8, rel=1e-9)


def test_the_reason_a_node_ended_is_ec2s_then_the_event_then_none() -> None:
    ec2 = {"StateReason": {"Code": "Server.SpotInstanceTermination",
                           "Message": "Server.SpotInstanceTermination: Spot instance termination"}}  # fmt: skip
    event = ("spot_interruption_warning", "terminate")
    assert termination_reason(ec2, event).startswith("Server.SpotInstanceTermination")
    assert termination_reason({}, event) == "spot interruption warning (terminate)"
    assert termination_reason(None, None) == LEFT_THE_GROUP
