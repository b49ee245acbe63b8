"""The daemon's placement_scores job: every fleet is asked, a throttled fleet's failure fails
the job (its signal goes stale) after the others were collected, and the daemon still decides."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from botocore.exceptions import ClientError

from analytics.pools import Pool
from reconciler.actuate.shadow import ShadowActuator
from reconciler.core.aws import Clients
from reconciler.core.errors import AwsCallError
from reconciler.core.history.ledger import Ledger
from reconciler.core.settings import DaemonSettings, FleetTarget
from reconciler.daemon.daemon import Daemon
from reconciler.embedded.aws_api import LocalAutoScalingClient, LocalEc2Client, LocalRegion
from reconciler.embedded.cloud import LocalCloud
from reconciler.embedded.market import MarketPool
from tests.history_rows import history_rows

from .conftest import Clock, seed_market
from .helpers import CHEAP, FLEET
from .test_two_fleets import groups_of

# A second fleet asking for a different request (one type), so neither call stands for both.
SMALL = FLEET.model_copy(
    update={"name": "small", "spot_groups": {}, "on_demand_group": "", "max_nodes": 2}
)


class ThrottledFor:
    """The local EC2, throttling every placement-score request for one target capacity."""

    def __init__(self, front: LocalEc2Client, target: int) -> None:
        self.front, self.target, self.calls = front, target, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.front, name)

    def get_spot_placement_scores(self, **params: Any) -> dict[str, Any]:
        self.calls += 1
        if params["TargetCapacity"] == self.target:
            raise ClientError(
                {"Error": {"Code": "Throttling", "Message": "Rate exceeded"}},
                "GetSpotPlacementScores",
            )
        return self.front.get_spot_placement_scores(**params)


def test_a_throttled_fleet_fails_the_job_after_the_others_and_the_daemon_decides(
    ledger: Ledger,
) -> None:
    small = FleetTarget.model_validate(SMALL.model_dump())  # its own groups, named for it
    clock = Clock()
    market = [
        MarketPool(Pool.parse(p), np.full(2, 6, dtype=np.int32), 0.3, 1.0, "t")
        for p in FLEET.pools()
    ]
    cloud = LocalCloud(market)
    region = LocalRegion(
        "us-east-1", cloud, {**groups_of(FLEET, cloud), **groups_of(small, cloud)}, clock
    )
    ec2 = ThrottledFor(LocalEc2Client(region), target=FLEET.max_nodes)
    fronts: dict[str, Any] = {"autoscaling": LocalAutoScalingClient(region), "ec2": ec2}
    pauses: list[float] = []
    daemon = Daemon(
        settings=DaemonSettings(fleets=(FLEET, small), mode="pulumi"),
        ledger=ledger,
        actuators={"shadow": ShadowActuator(), "pulumi": ShadowActuator()},
        clients=Clients(lambda service, _region: fronts[service]),
        clock=clock,
        sleep=pauses.append,
    )
    for fleet in (FLEET, small):
        seed_market(
            ledger, fleet, now=clock() - timedelta(minutes=1), prices={CHEAP: 0.30}, scores=False
        )
    with pytest.raises(AwsCallError, match="Throttling on all 3 tries"):
        daemon.collect_placement_scores()
    assert ec2.calls == 4 and pauses == [1.0, 2.0]
    kept = history_rows(ledger, "SELECT DISTINCT target_capacity FROM placement_scores")
    assert kept == [(small.max_nodes,)]
    noted = history_rows(
        ledger,
        "SELECT fleet, count(*) FROM fleet_actions WHERE kind = 'signal_failed' GROUP BY fleet",
    )
    assert noted == [(FLEET.name, 3)]
    daemon.reconcile()
    assert daemon.reconciler.last_decision[FLEET.name] is not None
