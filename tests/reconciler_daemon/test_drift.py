"""Drift: a group changed behind the daemon's back is seen, shown and put back."""

from __future__ import annotations

from typing import Any

from reconciler.actuate.shadow import ShadowActuator
from reconciler.api.source import DaemonSource
from reconciler.core.aws import Clients
from reconciler.core.history.ledger import Ledger
from reconciler.core.settings import DaemonSettings
from reconciler.daemon.daemon import Daemon
from reconciler.daemon.drift import drift
from reconciler.embedded.aws_api import LocalEc2Client

from .conftest import Clock, seed_market
from .helpers import CHEAP, FLEET, LocalGroups

PLACEMENT = {
    "pools": [{"instanceType": "g5.xlarge", "subnetId": "subnet-0aaa1111", "nodes": 2}],
    "onDemand": 0,
    "decisionId": "d-1",
    "reason": "r",
}


def test_drift_names_each_group_whose_count_is_not_the_placements() -> None:
    cheap = FLEET.spot_groups[CHEAP]
    other = FLEET.spot_groups["us-east-1/us-east-1b/g5.xlarge"]
    observed = dict.fromkeys(FLEET.groups(), 0) | {cheap: 2}
    assert drift(FLEET, PLACEMENT, observed) == ()
    assert drift(FLEET, PLACEMENT, observed | {cheap: 1, other: 3}) == (
        f"{cheap}: holds 1, the placement in force says 2",
        f"{other}: holds 3, the placement in force says 0",
    )
    assert drift(FLEET, None, observed) == ()


def test_a_group_changed_by_hand_shows_as_drift_and_the_next_reconcile_repairs_it(
    ledger: Ledger,
) -> None:
    clock = Clock()
    seed_market(ledger, FLEET, now=clock(), prices={CHEAP: 0.30})
    groups = LocalGroups()
    fronts: dict[str, Any] = {"autoscaling": groups.client, "ec2": LocalEc2Client(groups.region)}
    daemon = Daemon(
        # min 2: idle for half an hour, the fleet keeps two (this is about drift, not demand)
        settings=DaemonSettings(fleets=(FLEET.model_copy(update={"min_nodes": 2}),), mode="pulumi"),
        ledger=ledger,
        actuators={"shadow": ShadowActuator(), "pulumi": ShadowActuator()},
        clients=Clients(lambda service, _region: fronts[service]),
        clock=clock,
    )
    groups.hold(CHEAP, 2)
    daemon.observe_fleet()
    daemon.reconcile()
    daemon.observe_fleet()
    source = DaemonSource(daemon)
    assert source.status().fleets["gen"].drift == ()
    before = groups.counts()

    groups.hold(CHEAP, 4)  # someone raises the group by hand
    daemon.observe_fleet()
    [line] = source.status().fleets["gen"].drift
    assert line.startswith(f"{FLEET.spot_groups[CHEAP]}: holds 4")

    # The next reconcile takes what it finds into the plan: the placement in force is what
    # the groups hold again, and the extra nodes go as surplus once the planner's dwell after
    # a launch has passed (a lowered group's lost nodes would be replaced at once).
    clock.advance(60)
    groups.now = clock()
    daemon.observe_fleet()
    daemon.reconcile()
    daemon.observe_fleet()
    assert source.status().fleets["gen"].drift == ()
    clock.advance(1900)
    groups.now = clock()
    daemon.observe_fleet()
    daemon.reconcile()
    assert sum(groups.counts().values()) == sum(before.values())
