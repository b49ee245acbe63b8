"""The daemon's own EC2 and Auto Scaling code, run against the local EC2 and group."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from botocore.exceptions import ClientError

from analytics.pools import Pool
from analytics.store import open_history
from reconciler.actuate.groups import AutoScalingGroups
from reconciler.collect.fleet import observe_fleet
from reconciler.collect.prices import collect_prices
from reconciler.control import GroupTargets
from reconciler.core.errors import ActuationError
from reconciler.core.history.ledger import Ledger
from reconciler.core.settings import FleetTarget
from reconciler.embedded.aws_api import (
    LocalAutoScalingClient,
    LocalEc2Client,
    LocalRegion,
    LocalStackActuator,
)
from reconciler.embedded.clock import MarketClock
from reconciler.embedded.cloud import LocalCloud
from reconciler.embedded.fleet_groups import local_fleet
from reconciler.embedded.local_aws import FleetEndpoints
from reconciler.embedded.market import MarketPool
from stacks.spec import parse_fleets
from tests.history_rows import history_rows

T0 = datetime(2023, 2, 22, tzinfo=UTC)
A = Pool("us-west-2", "us-west-2a", "g5.xlarge")
B = Pool("us-west-2", "us-west-2b", "g5.2xlarge")
SUBNETS = {"subnet-0abc0001": "us-west-2a", "subnet-0abc0002": "us-west-2b"}


def market_pool(pool: Pool, price: float, capacity: int) -> MarketPool:
    return MarketPool(pool, np.full(10, capacity, dtype=np.int32), price, 1.0, "test")


def fleet_and_region(capacity_a: int = 2, capacity_b: int = 2) -> tuple[FleetTarget, LocalRegion]:
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
    cloud = LocalCloud(market=[market_pool(A, 0.4, capacity_a), market_pool(B, 0.5, capacity_b)])
    fleet = local_fleet(
        spec,
        prefix="sf",
        region="us-west-2",
        zone_of_subnet=SUBNETS,
        cloud=cloud,
        endpoints=FleetEndpoints(*(f"local-{n}" for n in range(10))),
        on_demand_prices={"g5.xlarge": 1.0, "g5.2xlarge": 1.2},
    )
    region = LocalRegion("us-west-2", cloud, {g.name: g for g in fleet.groups}, lambda: T0)
    return fleet.target, region


@pytest.fixture
def region() -> LocalRegion:
    return fleet_and_region()[1]


def fleet() -> FleetTarget:
    return fleet_and_region()[0]


def executor(target: FleetTarget, region: LocalRegion) -> AutoScalingGroups:
    return AutoScalingGroups(
        LocalAutoScalingClient(region), target, cold_start_s=300.0, settle_s=0.0
    )


def test_the_daemon_sizes_the_groups_and_observes_them() -> None:
    target, region = fleet_and_region()
    ledger = Ledger(open_history())
    asg, ec2 = LocalAutoScalingClient(region), LocalEc2Client(region)
    result = executor(target, region).apply(GroupTargets(spot={A: 1, B: 1}, on_demand=0), now=0.0)
    assert sorted(str(n.pool) for n in result.launched) == [str(A), str(B)]
    assert not result.failures

    view = observe_fleet(ledger, asg, ec2, target, now=T0 + timedelta(minutes=1))

    assert (view.desired, view.instances) == (2, 2)
    assert view.by_group[target.spot_groups[str(A)]] == 1
    rows = history_rows(
        ledger, "SELECT pool, lifecycle, state, launched_at FROM nodes ORDER BY pool"
    )
    assert rows == [
        (str(A), "spot", "InService", T0.replace(tzinfo=None)),
        (str(B), "spot", "InService", T0.replace(tzinfo=None)),
    ]


def test_a_refused_launch_comes_back_from_the_same_apply() -> None:
    target, region = fleet_and_region(capacity_a=0)
    result = executor(target, region).apply(GroupTargets(spot={A: 1}, on_demand=0), now=5.0)
    assert result.launched == ()
    [failure] = result.failures
    assert failure.pool == A and "InsufficientInstanceCapacity" in failure.message


def test_drains_go_first_and_lower_their_groups_count() -> None:
    target, region = fleet_and_region()
    run = executor(target, region)
    [node] = run.apply(GroupTargets(spot={A: 1}, on_demand=0), now=0.0).launched
    result = run.apply(GroupTargets(spot={B: 1}, on_demand=0, drain=(node.instance_id,)), now=1.0)
    assert [n.pool for n in result.launched] == [B]
    assert not region.cloud.instances[node.instance_id].running
    assert region.groups[target.spot_groups[str(A)]].desired == 0


def test_desired_outside_the_bounds_is_refused_as_aws_does(region: LocalRegion) -> None:
    asg = LocalAutoScalingClient(region)
    name = next(iter(region.groups))
    with pytest.raises(ClientError, match="outside the group's bounds"):
        asg.set_desired_capacity(AutoScalingGroupName=name, DesiredCapacity=4)
    with pytest.raises(ClientError, match="name not found"):
        asg.set_desired_capacity(AutoScalingGroupName="other", DesiredCapacity=1)


def test_unknown_instances_are_an_aws_error(region: LocalRegion) -> None:
    with pytest.raises(Exception, match="InvalidInstanceID.NotFound"):
        LocalEc2Client(region).describe_instances(InstanceIds=["i-missing"])


def test_the_price_collector_reads_the_market_prices_in_force(region: LocalRegion) -> None:
    ledger = Ledger(open_history())
    ec2 = LocalEc2Client(region)
    target = fleet().model_copy(update={"instance_types": ("g5.xlarge",)})

    assert collect_prices(ledger, ec2, target, now=T0, grid_s=195, capacity_from_prices=False) == 1
    assert history_rows(ledger, "SELECT pool, price, ts FROM spot_prices") == [
        (str(A), 0.4, T0.replace(tzinfo=None))
    ]
    # Capacity is the market's to record here: no guess from the offered price.
    assert history_rows(ledger, "SELECT count(*) FROM capacity_observations") == [(0,)]


def test_the_local_actuator_applies_a_placement_or_says_why_not() -> None:
    target, region = fleet_and_region()
    actuator = LocalStackActuator(region, {"gen": target})
    placement = {
        "pools": [{"instanceType": "g5.2xlarge", "subnetId": "subnet-0abc0002", "nodes": 2}],
        "onDemand": 1,
        "decisionId": "d-1",
        "reason": "a test",
    }
    applied = actuator.apply("gen", placement)
    assert "3 nodes" in applied.summary
    assert sorted(str(i.pool) for g in region.groups.values() for i in g.members()) == [
        str(A),
        str(B),
        str(B),
    ]  # the on-demand group's first pool is A

    with pytest.raises(ActuationError, match="refused the placement"):
        actuator.apply("gen", {**placement, "pools": [{"instanceType": "p3.2xlarge"}]})
    with pytest.raises(ActuationError, match="no local groups"):
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
