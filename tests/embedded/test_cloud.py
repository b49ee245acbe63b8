from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest

from analytics.pools import Pool
from reconciler.embedded.cloud import InsufficientCapacity, LocalCloud
from reconciler.embedded.market import MarketPool

A = Pool("us-east-1", "us-east-1a", "g5.xlarge")
B = Pool("us-east-1", "us-east-1b", "g5.xlarge")
T0 = datetime(2026, 1, 1)


def cloud(a: list[int], b: list[int]) -> LocalCloud:
    return LocalCloud(
        [
            MarketPool(A, np.array(a, dtype=np.int32), 0.5, 1.0, "use1-az1"),
            MarketPool(B, np.array(b, dtype=np.int32), 0.25, 1.0, "use1-az2"),
        ],
        notice=timedelta(seconds=20),
    )


def test_spot_launches_fail_without_capacity_and_on_demand_never_does() -> None:
    c = cloud([2, 0], [0, 0])
    c.launch(A, "spot", T0)
    c.launch(A, "spot", T0)
    with pytest.raises(InsufficientCapacity, match="us-east-1a"):
        c.launch(A, "spot", T0)
    with pytest.raises(InsufficientCapacity):
        c.launch(B, "spot", T0)
    assert c.launch(B, "on-demand", T0).hourly_price == 1.0
    with pytest.raises(InsufficientCapacity, match="not offered"):
        c.launch(Pool("us-east-1", "us-east-1z", "g5.xlarge"), "on-demand", T0)


def test_a_capacity_drop_warns_the_newest_first_and_reclaims_them_when_the_notice_runs_out() -> (
    None
):
    c = cloud([3, 1, 1], [1, 1, 1])
    old, mid, new = (c.launch(A, "spot", T0 + timedelta(seconds=s)) for s in range(3))
    other = c.launch(B, "spot", T0)
    change = c.advance(1, T0 + timedelta(seconds=60))
    assert [i.instance_id for i in change.noticed] == [new.instance_id, mid.instance_id]
    assert change.reclaimed == ()
    assert new.notice_deadline == T0 + timedelta(seconds=80)
    # Warned instances no longer count: the one slot left is old's, so a launch still fails.
    with pytest.raises(InsufficientCapacity):
        c.launch(A, "spot", T0 + timedelta(seconds=61))
    assert c.advance(2, T0 + timedelta(seconds=79)).reclaimed == ()
    later = c.advance(2, T0 + timedelta(seconds=80))
    assert {i.instance_id for i in later.reclaimed} == {new.instance_id, mid.instance_id}
    assert old.running and other.running and not new.running


def test_instances_cost_their_price_for_the_time_held() -> None:
    c = cloud([1], [1])
    a = c.launch(A, "spot", T0)
    c.launch(B, "on-demand", T0)
    c.terminate(a.instance_id, T0 + timedelta(hours=2), "scaled in")
    assert c.cost(T0 + timedelta(hours=3)) == pytest.approx(0.5 * 2 + 1.0 * 3)


def test_a_node_that_drained_on_its_notice_and_exited_is_not_unhealthy() -> None:
    """Issue 14.16: the demo logged "exited on its own" as a warning after a clean drain."""
    from datetime import timedelta

    from reconciler.embedded.cloud import Instance
    from reconciler.embedded.world import process_ended_unhealthy

    def instance(**kw: object) -> Instance:
        fields: dict[str, object] = {
            "instance_id": "i-1", "pool": Pool("us-east-1", "us-east-1a", "g5.xlarge"),
            "lifecycle": "spot", "hourly_price": 0.3, "launched_at": T0, "sequence": 0,
        }  # fmt: skip
        fields.update(kw)
        return Instance(**fields)  # type: ignore[arg-type]

    assert process_ended_unhealthy(instance())  # died under a running instance
    assert not process_ended_unhealthy(instance(notice_deadline=T0 + timedelta(minutes=2)))
    assert not process_ended_unhealthy(instance(terminated_at=T0))  # taken: nothing to replace
