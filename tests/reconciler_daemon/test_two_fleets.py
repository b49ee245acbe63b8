"""Two fleets on the same pools: a warning about one fleet's node acts on that fleet's groups,
and only on them (the backlog scaler used to raise the first fleet's group for a node of the
second)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np

from analytics.pools import Pool
from reconciler.actuate.shadow import ShadowActuator
from reconciler.core.aws import Clients
from reconciler.core.history.ledger import Ledger
from reconciler.core.reactions import Reaction
from reconciler.core.settings import DaemonSettings, FleetTarget
from reconciler.daemon.daemon import Daemon
from reconciler.embedded.autoscaling import LocalAutoScalingGroup
from reconciler.embedded.aws_api import LocalAutoScalingClient, LocalEc2Client, LocalRegion
from reconciler.embedded.cloud import LocalCloud
from reconciler.embedded.market import MarketPool

from .conftest import T0, Clock, seed_market
from .helpers import CHEAP, FLEET, warn

BATCH = FLEET.model_copy(update={"name": "batch", "spot_groups": {}, "on_demand_group": ""})
BATCH = FleetTarget.model_validate(BATCH.model_dump())  # its own groups, named for it


def groups_of(fleet: FleetTarget, cloud: LocalCloud) -> dict[str, LocalAutoScalingGroup]:
    out = {
        g: LocalAutoScalingGroup(
            name=g, pools=(Pool.parse(p),), lifecycle="spot", max_size=6, cloud=cloud
        )
        for p, g in fleet.spot_groups.items()
    }
    pools = tuple(Pool.parse(p) for p in fleet.pools())
    out[fleet.on_demand_group] = LocalAutoScalingGroup(
        name=fleet.on_demand_group, pools=pools, lifecycle="on-demand", max_size=6, cloud=cloud
    )
    return out


def counts(region: LocalRegion, fleet: FleetTarget) -> dict[str, int]:
    by_pool = {p: region.groups[g].desired for p, g in fleet.spot_groups.items()}
    by_pool["on-demand"] = region.groups[fleet.on_demand_group].desired
    return {p: n for p, n in by_pool.items() if n}


def test_a_warning_acts_on_the_owners_groups_only(ledger: Ledger) -> None:
    assert BATCH.spot_groups[CHEAP] != FLEET.spot_groups[CHEAP]
    clock = Clock()
    market = [
        MarketPool(Pool.parse(p), np.full(2, 6, dtype=np.int32), 0.3, 1.0, "t")
        for p in FLEET.pools()
    ]
    cloud = LocalCloud(market)
    moment = [T0 - timedelta(hours=3)]
    region = LocalRegion(
        "us-east-1", cloud, {**groups_of(FLEET, cloud), **groups_of(BATCH, cloud)},
        lambda: moment[0],
    )  # fmt: skip
    fronts: dict[str, Any] = {
        "autoscaling": LocalAutoScalingClient(region),
        "ec2": LocalEc2Client(region),
    }
    daemon = Daemon(
        settings=DaemonSettings(fleets=(FLEET, BATCH), mode="pulumi"),
        ledger=ledger,
        actuators={"shadow": ShadowActuator(), "pulumi": ShadowActuator()},
        clients=Clients(lambda service, _region: fronts[service]),
        clock=clock,
    )
    for fleet in (FLEET, BATCH):
        seed_market(ledger, fleet, now=clock(), prices={CHEAP: 0.30})
        fronts["autoscaling"].set_desired_capacity(
            AutoScalingGroupName=fleet.spot_groups[CHEAP], DesiredCapacity=2
        )
    moment[0] = T0
    daemon.observe_fleet()
    before = counts(region, FLEET)
    assert before == {CHEAP: 2} and counts(region, BATCH) == {CHEAP: 2}

    victim = region.groups[BATCH.spot_groups[CHEAP]].members()[0].instance_id
    warn(ledger, victim)
    daemon.react(Reaction("ev-1", CHEAP, victim, replace_now=True, drain=True))

    after = counts(region, BATCH)
    assert after[CHEAP] == 1 and sum(after.values()) >= 2  # drained, replaced elsewhere
    assert not cloud.instances[victim].running
    assert counts(region, FLEET) == before  # the other fleet's groups are untouched
    decision = daemon.reconciler.last_decision["batch"]
    assert decision.reason.startswith(f"interruption warning for {victim}")
    assert "gen" not in daemon.reconciler.last_decision
