"""The daemon's own EC2 and Auto Scaling code, run against the local EC2 and group."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from analytics.pools import Pool
from analytics.store import open_history
from reconciler.actuate.scaler import AutoScalingScaler
from reconciler.collect.fleet import observe_fleet
from reconciler.collect.prices import collect_prices
from reconciler.daemon.errors import ActuationError, AwsCallError
from reconciler.daemon.ledger import Ledger
from reconciler.daemon.settings import FleetTarget
from reconciler.embedded.autoscaling import LocalAutoScalingGroup
from reconciler.embedded.aws_api import (
    LocalAutoScalingClient,
    LocalEc2Client,
    LocalRegion,
    LocalStackActuator,
)
from reconciler.embedded.clock import MarketClock
from reconciler.embedded.cloud import LocalCloud
from reconciler.embedded.market import MarketPool
from stacks.spec import parse_fleets

T0 = datetime(2023, 2, 22, tzinfo=UTC)
A = Pool("us-west-2", "us-west-2a", "g5.xlarge")
B = Pool("us-west-2", "us-west-2b", "g5.2xlarge")
SUBNETS = {"subnet-0abc0001": "us-west-2a", "subnet-0abc0002": "us-west-2b"}


def market_pool(pool: Pool, price: float, capacity: int) -> MarketPool:
    return MarketPool(pool, np.full(10, capacity, dtype=np.int32), price, 1.0, "test")


@pytest.fixture
def region() -> LocalRegion:
    spec = parse_fleets(
        [
            {
                "name": "gen",
                "instanceTypes": ["g5.xlarge", "g5.2xlarge"],
                "subnetIds": list(SUBNETS),
                "amiId": "ami-0abc1234",
                "minNodes": 1,
                "maxNodes": 3,
                "model": "tiny",
            }
        ]
    )[0]
    cloud = LocalCloud(market=[market_pool(A, 0.4, 2), market_pool(B, 0.5, 2)])
    group = LocalAutoScalingGroup(
        name="sf-gen", fleet=spec, region="us-west-2", zone_of_subnet=SUBNETS, cloud=cloud
    )
    return LocalRegion("us-west-2", cloud, {"sf-gen": group}, lambda: T0)


def fleet() -> FleetTarget:
    return FleetTarget(
        name="gen",
        region="us-west-2",
        instance_types=("g5.xlarge", "g5.2xlarge"),
        subnets={zone: subnet for subnet, zone in SUBNETS.items()},
        min_nodes=1,
        max_nodes=3,
        autoscaling_group="sf-gen",
    )


def test_the_daemon_observes_the_local_group_and_scales_it(region: LocalRegion) -> None:
    ledger = Ledger(open_history())
    asg, ec2 = LocalAutoScalingClient(region), LocalEc2Client(region)
    AutoScalingScaler(asg).set_desired("sf-gen", 2)
    region.groups["sf-gen"].reconcile(T0)

    view = observe_fleet(ledger, asg, ec2, fleet(), now=T0 + timedelta(minutes=1))

    assert (view.desired, view.instances) == (2, 2)
    rows = ledger.rows("SELECT pool, lifecycle, state, launched_at FROM nodes ORDER BY pool")
    assert rows == [
        (str(A), "spot", "InService", T0.replace(tzinfo=None)),
        (str(B), "spot", "InService", T0.replace(tzinfo=None)),
    ]


def test_desired_outside_the_bounds_is_refused_as_aws_does(region: LocalRegion) -> None:
    with pytest.raises(AwsCallError, match="outside the group's bounds"):
        AutoScalingScaler(LocalAutoScalingClient(region)).set_desired("sf-gen", 4)
    with pytest.raises(AwsCallError, match="name not found"):
        AutoScalingScaler(LocalAutoScalingClient(region)).set_desired("other", 1)


def test_unknown_instances_are_an_aws_error(region: LocalRegion) -> None:
    with pytest.raises(Exception, match="InvalidInstanceID.NotFound"):
        LocalEc2Client(region).describe_instances(InstanceIds=["i-missing"])


def test_the_price_collector_reads_the_market_prices_in_force(region: LocalRegion) -> None:
    ledger = Ledger(open_history())
    ec2 = LocalEc2Client(region)
    target = fleet().model_copy(update={"instance_types": ("g5.xlarge",)})

    assert collect_prices(ledger, ec2, target, now=T0, grid_s=195, capacity_from_prices=False) == 1
    assert ledger.rows("SELECT pool, price, ts FROM spot_prices") == [
        (str(A), 0.4, T0.replace(tzinfo=None))
    ]
    # Capacity is the market's to record here: no guess from the offered price.
    assert ledger.rows("SELECT count(*) FROM capacity_observations") == [(0,)]


def test_the_local_actuator_applies_a_placement_or_says_why_not(region: LocalRegion) -> None:
    actuator = LocalStackActuator(region, {"gen": "sf-gen"})
    placement = {
        "pools": [{"instanceType": "g5.2xlarge", "subnetId": "subnet-0abc0002", "nodes": 1}],
        "onDemand": 0,
        "decisionId": "d-1",
        "reason": "a test",
    }
    applied = actuator.apply("gen", placement)
    assert "g5.2xlarge in us-west-2b" in applied.summary
    region.groups["sf-gen"].reconcile(T0)
    assert [i.pool for i in region.groups["sf-gen"].members()] == [B]

    with pytest.raises(ActuationError, match="refused the placement"):
        actuator.apply("gen", {**placement, "pools": [{"instanceType": "p3.2xlarge"}]})
    with pytest.raises(ActuationError, match="no local group"):
        actuator.apply("other", placement)


def test_the_market_clock_runs_ticks_per_wall_second() -> None:
    wall = [100.0]
    clock = MarketClock(start=T0, gap_s=195, ticks_per_s=2.0, first_tick=3101, wall=lambda: wall[0])
    wall[0] += 10.25
    assert clock.compression == 390
    assert clock.tick() == 3101 + 20
    assert clock.now() == T0 + timedelta(seconds=10.25 * 390)
    assert clock.wall_s(780) == 2.0
    with pytest.raises(ValueError, match="timezone-aware"):
        MarketClock(start=T0.replace(tzinfo=None), gap_s=195, ticks_per_s=1)
