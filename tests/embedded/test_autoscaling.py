"""The local groups behave as AWS's per-pool groups do: one pool each, refusals as AWS words
them, no capacity rebalancing, scale-in newest first, named terminations."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest

from analytics.pools import Pool
from reconciler.actuate.groups import failed_launches
from reconciler.embedded.autoscaling import LocalAutoScalingGroup
from reconciler.embedded.cloud import LocalCloud
from reconciler.embedded.market import MarketPool

T0 = datetime(2026, 1, 1)
A = Pool("us-east-1", "us-east-1a", "g5.xlarge")
B = Pool("us-east-1", "us-east-1b", "g5.xlarge")


def cloud(**capacity: int) -> LocalCloud:
    pools = {"a": A, "b": B}
    return LocalCloud(
        [
            MarketPool(pools[k], np.array([n, n], dtype=np.int32), 0.3, 1.0, "x")
            for k, n in capacity.items()
        ]
    )


def spot_group(c: LocalCloud, pool: Pool = A, max_size: int = 4) -> LocalAutoScalingGroup:
    return LocalAutoScalingGroup(
        name=f"g-{pool.zone}", pools=(pool,), lifecycle="spot", max_size=max_size, cloud=c
    )


def test_a_spot_group_launches_into_its_one_pool_only() -> None:
    c = cloud(a=1, b=4)
    group = spot_group(c)
    group.set_desired(3)
    activity = group.step(T0)
    assert [i.pool for i in activity.launched] == [A]  # B has room, but it is not this group's
    assert len(activity.failures) == 1
    [refused] = failed_launches(group.activities)
    assert refused["StatusCode"] == "Failed"
    assert "InsufficientInstanceCapacity" in refused["StatusMessage"]
    assert refused["Description"].startswith("Launching a new EC2 instance.")


def test_a_refused_group_retries_a_minute_later_not_on_every_pass() -> None:
    c = cloud(a=0)
    group = spot_group(c)
    group.set_desired(1)
    group.step(T0)
    group.step(T0 + timedelta(seconds=30))
    assert len(failed_launches(group.activities)) == 1
    c.market[0].capacity[:] = 1
    assert group.step(T0 + timedelta(seconds=30)).launched == []
    assert [i.pool for i in group.step(T0 + timedelta(seconds=61)).launched] == [A]


def test_desired_outside_the_bounds_is_refused_not_clamped() -> None:
    group = spot_group(cloud(a=4), max_size=2)
    with pytest.raises(ValueError, match="outside the group's bounds"):
        group.set_desired(3)
    assert group.desired == 0


def test_the_on_demand_group_takes_its_first_pool_and_scales_in_newest_first() -> None:
    c = cloud(a=0, b=0)
    group = LocalAutoScalingGroup(
        name="od", pools=(A, B), lifecycle="on-demand", max_size=4, cloud=c
    )
    group.set_desired(2)
    launched = group.step(T0).launched
    assert [(i.pool, i.lifecycle) for i in launched] == [(A, "on-demand"), (A, "on-demand")]
    group.set_desired(1)
    [gone] = group.step(T0).terminated
    assert gone.instance_id == launched[1].instance_id


def test_a_named_termination_lowers_the_count_so_nothing_relaunches_in_place() -> None:
    c = cloud(a=4)
    group = spot_group(c)
    group.set_desired(2)
    first, second = group.step(T0).launched
    group.terminate(first.instance_id, T0, decrement=True)
    assert group.desired == 1 and not c.instances[first.instance_id].running
    assert group.step(T0).launched == []
    assert [i.instance_id for i in group.members()] == [second.instance_id]


def test_a_warned_instance_still_counts_and_its_loss_is_replaced_in_place() -> None:
    c = cloud(a=1)
    group = spot_group(c)
    group.set_desired(1)
    [first] = group.step(T0).launched
    c.market[0].capacity[:] = 0
    assert [i.instance_id for i in c.advance(1, T0).noticed] == [first.instance_id]
    assert group.step(T0).launched == []  # no capacity rebalancing: it serves out its notice
    c.market[0].capacity[:] = 1
    c.advance(1, T0 + timedelta(minutes=3))  # the notice ran out: reclaimed
    [again] = group.step(T0 + timedelta(minutes=3)).launched
    assert again.pool == A  # AWS's group relaunches where it is: moving is the daemon's job
