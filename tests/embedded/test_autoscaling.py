from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from analytics.pools import Pool
from reconciler.embedded.autoscaling import LocalAutoScalingGroup
from reconciler.embedded.cloud import LocalCloud
from reconciler.embedded.market import MarketPool
from stacks.spec import parse_fleets

T0 = datetime(2026, 1, 1)
SUBNETS = {
    "subnet-0aaaa001": "us-east-1a",
    "subnet-0aaaa002": "us-east-1b",
    "subnet-0aaaa003": "us-east-1c",
}


def group(capacity: dict[tuple[str, str], int], *, on_demand_base: int = 0, max_nodes: int = 8):
    market = [
        MarketPool(Pool("us-east-1", zone, itype), np.array([n, n], dtype=np.int32), 0.3, 1.0, "x")
        for (zone, itype), n in capacity.items()
    ]
    cloud = LocalCloud(market)
    [fleet] = parse_fleets(
        [
            {
                "name": "gen",
                "instanceTypes": ["g5.xlarge", "g5.2xlarge"],
                "subnetIds": list(SUBNETS),
                "amiId": "ami-0abc1234",
                "minNodes": 0,
                "maxNodes": max_nodes,
                "onDemandBase": on_demand_base,
                "model": "tiny",
            }
        ]
    )
    return LocalAutoScalingGroup(
        name="gen-asg", fleet=fleet, region="us-east-1", zone_of_subnet=SUBNETS, cloud=cloud
    ), cloud


def pools(instances) -> list[str]:
    return sorted(f"{i.pool.zone}/{i.pool.instance_type}/{i.lifecycle}" for i in instances)


def full() -> dict[tuple[str, str], int]:
    return {(z, t): 2 for z in SUBNETS.values() for t in ("g5.xlarge", "g5.2xlarge")}


def test_launches_balance_zones_and_take_the_first_type_with_capacity() -> None:
    capacity = full() | {("us-east-1b", "g5.xlarge"): 0}
    asg, _ = group(capacity)
    asg.set_desired("gen-asg", 4)
    activity = asg.reconcile(T0)
    assert pools(activity.launched) == [
        "us-east-1a/g5.xlarge/spot",
        "us-east-1a/g5.xlarge/spot",
        "us-east-1b/g5.2xlarge/spot",
        "us-east-1c/g5.xlarge/spot",
    ]


def test_desired_is_held_within_the_fleets_bounds_and_failures_are_reported() -> None:
    asg, _ = group({("us-east-1a", "g5.xlarge"): 1}, max_nodes=3)
    asg.set_desired("gen-asg", 10)
    assert asg.desired == 3
    activity = asg.reconcile(T0)
    assert len(activity.launched) == 1
    assert "no spot capacity in any allowed pool" in activity.failures[0]
    with pytest.raises(ValueError, match="no group"):
        asg.set_desired("other", 1)


def test_a_placement_moves_nodes_launch_before_terminate_one_at_a_time() -> None:
    asg, cloud = group(full())
    asg.set_desired("gen-asg", 2)
    asg.reconcile(T0)
    applied = asg.apply(
        "gen",
        {
            "pools": [{"instanceType": "g5.2xlarge", "subnetId": "subnet-0aaaa003", "nodes": 1}],
            "onDemand": 0,
            "decisionId": "d-1",
            "reason": "1a and 1b at risk",
        },
    )
    assert applied.changed and "g5.2xlarge in us-east-1c" in applied.summary
    first = asg.reconcile(T0)
    assert pools(first.launched) == ["us-east-1c/g5.2xlarge/spot"]
    assert len(first.terminated) == 1  # the one it replaced, after the new one was launched
    asg.reconcile(T0)
    assert pools(asg.members()) == ["us-east-1c/g5.2xlarge/spot", "us-east-1c/g5.2xlarge/spot"]
    assert len(cloud.instances) == 4


def test_on_demand_base_then_spot_and_scale_in_newest_first() -> None:
    asg, _ = group(full(), on_demand_base=1)
    asg.set_desired("gen-asg", 3)
    asg.reconcile(T0)
    assert [i.lifecycle for i in asg.members()] == ["on-demand", "spot", "spot"]
    asg.set_desired("gen-asg", 1)
    activity = asg.reconcile(T0)
    assert len(activity.terminated) == 2
    assert [i.lifecycle for i in asg.members()] == ["on-demand"]


def test_a_warned_instance_is_replaced_before_it_is_reclaimed() -> None:
    capacity = full()
    asg, cloud = group(capacity)
    asg.set_desired("gen-asg", 1)
    [first] = asg.reconcile(T0).launched
    cloud.market[0].capacity[:] = 0  # us-east-1a/g5.xlarge loses its capacity
    change = cloud.advance(1, T0)
    assert [i.instance_id for i in change.noticed] == [first.instance_id]
    [replacement] = asg.reconcile(T0).launched
    assert replacement.pool != first.pool
