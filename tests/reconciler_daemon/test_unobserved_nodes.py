"""The groups as read now correct the history's nodes (fleet_facts): what they hold beyond
them counts as held, not ready; what they no longer hold is not counted."""

from __future__ import annotations

from analytics.pools import Pool
from reconciler.control.types import GroupHolding, HeldNode
from reconciler.daemon.fleet_facts import still_held, unobserved

POOL = Pool("us-east-1", "us-east-1a", "g5.xlarge")
OTHER = Pool("us-east-1", "us-east-1b", "g5.xlarge")


def test_members_the_history_lacks_and_launches_without_an_instance_are_held_from_now() -> None:
    known = (HeldNode("i-1", POOL, 0.0, 300.0),)
    holding = (
        GroupHolding(POOL, desired=4, instances=("i-1", "i-2")),
        GroupHolding(None, desired=0, instances=()),
    )
    got = unobserved(known, holding, now=1000.0, cold_start_s=300.0)
    assert [n.instance_id for n in got] == [
        "i-2",
        f"pending:{POOL.name}:0",
        f"pending:{POOL.name}:1",
    ]
    assert all(n.pool == POOL and not n.warned for n in got)
    assert all(n.launched_at == 1000.0 and n.ready_at == 1300.0 for n in got)  # not ready yet


def test_a_group_the_history_already_knows_adds_nothing() -> None:
    known = (HeldNode("i-1", POOL, 0.0, 300.0), HeldNode("i-od", None, 0.0, 300.0))
    holding = (GroupHolding(POOL, 1, ("i-1",)), GroupHolding(None, 1, ("i-od",)))
    assert unobserved(known, holding, now=1000.0, cold_start_s=300.0) == ()


def test_a_node_its_group_no_longer_holds_is_not_counted() -> None:
    known = (
        HeldNode("i-gone", POOL, 0.0, 300.0),
        HeldNode("i-1", POOL, 0.0, 300.0),
        HeldNode("i-od-gone", None, 0.0, 300.0),
        HeldNode("i-unread", OTHER, 0.0, 300.0),  # its group was not read: kept
    )
    holding = (GroupHolding(POOL, 2, ("i-1", "i-2")), GroupHolding(None, 0, ()))
    assert [n.instance_id for n in still_held(known, holding)] == ["i-1", "i-unread"]


def test_without_a_read_of_the_groups_the_history_stands() -> None:
    known = (HeldNode("i-1", POOL, 0.0, 300.0), HeldNode("i-od", None, 0.0, 300.0))
    assert still_held(known, ()) == known
