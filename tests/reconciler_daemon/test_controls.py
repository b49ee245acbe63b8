"""What operators set, and what of it is in force: pure, at an injected "now"."""

from __future__ import annotations

from datetime import timedelta

from reconciler.core.controls import CordonedPool, FleetControls, NodeFloor, Paused

from .conftest import T0

POOL = "us-east-1/us-east-1a/g5.xlarge"


def test_cordons_and_floors_end_at_their_expiry_a_pause_only_when_resumed() -> None:
    controls = FleetControls(
        paused=Paused(reason="r", by="api:me", since=T0),
        cordons=(
            CordonedPool(
                pool=POOL, until=T0 + timedelta(minutes=30), reason="r", by="api:me", since=T0
            ),
        ),
        floor=NodeFloor(
            min_nodes=3, until=T0 + timedelta(hours=2), reason="r", by="api:me", since=T0
        ),
    )
    at = T0 + timedelta(minutes=29)
    assert controls.cordoned(at) == {POOL: (T0 + timedelta(minutes=30)).timestamp()}
    assert controls.floor_at(at) == 3
    later = T0 + timedelta(minutes=31)
    assert controls.cordoned(later) == {} and controls.in_force(later).cordons == ()
    assert controls.floor_at(later) == 3
    much_later = T0 + timedelta(days=3)
    assert controls.floor_at(much_later) is None
    assert controls.in_force(much_later).paused is not None


def test_controls_survive_the_round_trip_through_the_history_json() -> None:
    floor = NodeFloor(min_nodes=1, until=T0, reason="r", by="api:me", since=T0)
    controls = FleetControls(floor=floor)
    assert FleetControls.model_validate(controls.model_dump(mode="json")) == controls
