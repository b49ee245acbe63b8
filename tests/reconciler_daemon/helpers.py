"""Shared builders for the reconcile tests: a fleet, its nodes, a recording actuator, a
served API, and a history with something on every part of the status page."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import uvicorn

from analytics.pools import Pool
from reconciler.actuate.base import Applied
from reconciler.actuate.groups import AutoScalingGroups
from reconciler.actuate.shadow import ShadowActuator
from reconciler.collect.fleet import GroupView, observe_fleet
from reconciler.core.errors import ActuationError
from reconciler.core.history.ledger import DecisionRecord, Ledger
from reconciler.core.settings import DaemonSettings, FleetTarget, Mode, SafetySettings
from reconciler.daemon.breaker import Breaker
from reconciler.daemon.cycle import Reconciler
from reconciler.daemon.daemon import Daemon
from reconciler.daemon.scaling import ScaleDecision
from reconciler.embedded.autoscaling import LocalAutoScalingGroup
from reconciler.embedded.aws_api import LocalAutoScalingClient, LocalEc2Client, LocalRegion
from reconciler.embedded.cloud import LocalCloud
from reconciler.embedded.market import MarketPool
from reconciler.embedded.placement_scores import local_zone_id

from .conftest import T0, Clock, fleet_groups, free_port, seed_market

FLEET = FleetTarget(
    name="gen",
    instance_types=("g5.xlarge", "g5.2xlarge"),
    subnets={"us-east-1a": "subnet-0aaa1111", "us-east-1b": "subnet-0bbb2222"},
    **fleet_groups("gen", ("us-east-1a", "us-east-1b"), ("g5.xlarge", "g5.2xlarge")),
    max_nodes=6,
    on_demand_prices={"g5.xlarge": 1.006, "g5.2xlarge": 1.212},
)
CHEAP = "us-east-1/us-east-1a/g5.xlarge"


class RecordingActuator:
    """Stands in for a stack actuator: keeps what it was asked, fails when told to."""

    name = "pulumi"

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.fail_with: BaseException | None = None

    def apply(self, fleet: str, placement: dict[str, Any]) -> Applied:
        self.calls.append((fleet, placement))
        if self.fail_with is not None:
            raise self.fail_with
        return Applied(changed=True, summary="up succeeded: update=1")


def add_nodes(ledger: Ledger, pool: str = CHEAP, n: int = 2, prefix: str = "i-") -> None:
    launched = (T0 - timedelta(hours=3)).replace(tzinfo=None)
    ledger.history.con.executemany(
        "INSERT INTO nodes (instance_id, fleet, pool, lifecycle, state, launched_at, observed_at) "
        "VALUES (?, 'gen', ?, 'spot', 'InService', ?, ?)",
        [(f"{prefix}{i}", pool, launched, launched) for i in range(n)],
    )


class LocalGroups:
    """FLEET's groups in the embedded default's local cloud (AWS's per-pool group semantics),
    reached through the same Auto Scaling calls the daemon makes on AWS. ``capacity``: spot
    capacity per pool in the cloud, which the history need not know."""

    def __init__(self, fleet: FleetTarget = FLEET, capacity: dict[str, int] | None = None):
        capacity = capacity or {}
        market = [
            MarketPool(Pool.parse(p), np.full(4, capacity.get(p, 6), dtype=np.int32), 0.3, 1.0, "t")
            for p in fleet.pools()
        ]
        self.fleet = fleet
        self.cloud = LocalCloud(market)
        self.now = T0
        zones = [Pool.parse(p).zone for p in fleet.pools()]
        groups = {
            g: LocalAutoScalingGroup(
                name=g, pools=(Pool.parse(p),), lifecycle="spot", max_size=fleet.max_nodes,
                cloud=self.cloud,
            )
            for p, g in fleet.spot_groups.items()
        }  # fmt: skip
        od_pools = tuple(
            Pool(fleet.region, z, t) for t in fleet.instance_types for z in sorted(set(zones))
        )
        groups[fleet.on_demand_group] = LocalAutoScalingGroup(
            name=fleet.on_demand_group, pools=od_pools, lifecycle="on-demand",
            max_size=fleet.max_nodes, cloud=self.cloud,
        )  # fmt: skip
        self.region = LocalRegion(fleet.region, self.cloud, groups, lambda: self.now)
        self.client = LocalAutoScalingClient(self.region)

    def hold(self, pool: str, n: int) -> list[str]:
        """``n`` nodes in ``pool``'s group now; their instance ids."""
        self.client.set_desired_capacity(
            AutoScalingGroupName=self.fleet.spot_groups[pool], DesiredCapacity=n
        )
        return [i.instance_id for i in self.region.groups[self.fleet.spot_groups[pool]].members()]

    def observe(self, ledger: Ledger, now: datetime) -> None:
        observe_fleet(ledger, self.client, LocalEc2Client(self.region), self.fleet, now=now)

    def counts(self) -> dict[str, int]:
        """Desired capacity by pool name (and 'on-demand'), groups at 0 left out."""
        out = {p: self.region.groups[g].desired for p, g in self.fleet.spot_groups.items()}
        out["on-demand"] = self.region.groups[self.fleet.on_demand_group].desired
        return {k: v for k, v in out.items() if v}

    def executor(self, fleet: FleetTarget) -> AutoScalingGroups:
        return AutoScalingGroups(self.client, fleet, cold_start_s=300.0, settle_s=0.0)


def make_reconciler(
    ledger: Ledger,
    clock: Clock,
    *,
    mode: Mode = "pulumi",
    actuator: RecordingActuator | None = None,
    fleet: FleetTarget = FLEET,
    groups: LocalGroups | None = None,
    k: int = 2,
    **safety: Any,
) -> Reconciler:
    """A reconciler acting on ``groups`` (a fresh LocalGroups by default), with demand K."""
    settings = DaemonSettings(fleets=(fleet,), safety=SafetySettings(**safety))
    local = groups or LocalGroups(fleet)
    reconciler = Reconciler(
        ledger=ledger,
        settings=settings,
        actuators={"shadow": ShadowActuator(), "pulumi": actuator or RecordingActuator()},
        breaker=Breaker(ledger, threshold=settings.safety.breaker_failures),
        clock=clock,
        mode=lambda: mode,
        executor=local.executor,
        demand=lambda _fleet, _now: ScaleDecision(k, f"test demand {k}"),
    )
    reconciler.load()
    return reconciler


def warn(
    ledger: Ledger,
    instance_id: str,
    pool: str = CHEAP,
    kind: str = "spot_interruption_warning",
    *,
    at: datetime = T0,
    deadline: datetime | None = None,
    detail: str | None = None,
) -> None:
    ledger.history.con.execute(
        "INSERT INTO interruption_events "
        "(event_id, kind, ts, pool, instance_id, source, deadline, detail) "
        "VALUES (?, ?, ?, ?, ?, 'aws.ec2', ?, ?)",
        [
            f"ev-{instance_id}-{kind}",
            kind,
            at.replace(tzinfo=None),
            pool,
            instance_id,
            None if deadline is None else deadline.replace(tzinfo=None),
            detail,
        ],
    )


def serve(app: Any) -> Iterator[str]:
    """``app`` on uvicorn on a free port, for as long as the generator is not closed."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(5)


# The status page's history: FLEET's four pools, where each node and price below is known,
# so the page's figures are too (all times before T0, the test clock).
ZONE_B = "us-east-1/us-east-1b/g5.xlarge"
XL2_A = "us-east-1/us-east-1a/g5.2xlarge"
XL2_B = "us-east-1/us-east-1b/g5.2xlarge"
PAGE_COST_USD = 2 * 3 * 0.30 + 6 * 0.40 + 2 * 1.212 + 4 * 0.40  # 8.224
PAGE_ON_DEMAND_USD = 2 * 3 * 1.006 + 6 * 1.006 + 2 * 1.212 + 4 * 1.212  # 19.344
PAGE_JOBS = {"completed": 40, "started": 2, "released": 1, "failed": 1, "dead_lettered": 1}
PAGE_REASON = "schedule: applied; moved off us-east-1b/g5.2xlarge (predicted loss 0.42 > 0.30)"


def seed_page_history(ledger: Ledger, now: datetime = T0) -> None:
    """Prices (CHEAP 0.30 $/h, the others 0.40), placement scores that dip (10 otherwise, as
    the collector writes them: no capacity observations), five nodes (two spot in
    CHEAP for 3 h, one spot in ZONE_B for 6 h, one on-demand in XL2_A for 2 h, one spot in
    XL2_B terminated after 4 h), jobs in every state, and an applied decision."""
    seed_market(ledger, FLEET, now=now, prices={CHEAP: 0.30})
    con = ledger.history.con
    con.execute("DELETE FROM capacity_observations")
    con.execute("DELETE FROM placement_scores")
    dips = {CHEAP: (20, 16, 3), XL2_A: (10, 7, 1), ZONE_B: (5, 0, 4), XL2_B: (14, 13, 1)}
    scores = []
    for pool, (start_h, end_h, low) in dips.items():
        region, zone, itype = pool.split("/")
        for step in range(30 * 12 + 1):  # 30 h on a 5-minute grid, ending at now
            hours_ago = 30 - step / 12
            value = low if end_h <= hours_ago < start_h else 10
            at = (now - timedelta(hours=hours_ago)).replace(tzinfo=None)
            scores.append((region, zone, local_zone_id(zone), itype, value, at))
    # One Arrow batch: row by row, the 1,444 rows take a second.
    table = pa.table(
        {
            "region": [c[0] for c in scores],
            "zone": [c[1] for c in scores],
            "zone_id": [c[2] for c in scores],
            "instance_type": [c[3] for c in scores],
            "score": pa.array([c[4] for c in scores], pa.int32()),
            "ts": pa.array([c[5] for c in scores], pa.timestamp("us")),
        }
    )
    con.register("_page_scores", table)
    con.execute(
        "INSERT INTO placement_scores SELECT region, zone, zone_id, instance_type, ?, score, "
        "ts, 'test' FROM _page_scores",
        [FLEET.max_nodes],
    )
    con.unregister("_page_scores")
    add_nodes(ledger)
    nodes = [
        ("i-zb", ZONE_B, "spot", "running", 6, None),
        ("i-od", XL2_A, "on-demand", "running", 2, None),
        ("i-gone", XL2_B, "spot", "terminated", 12, 8),
    ]
    for instance_id, pool, lifecycle, state, up_h, down_h in nodes:
        con.execute(
            "INSERT INTO nodes (instance_id, fleet, pool, lifecycle, state, launched_at, "
            "terminated_at, observed_at) VALUES (?, 'gen', ?, ?, ?, ?, ?, ?)",
            [
                instance_id,
                pool,
                lifecycle,
                state,
                (now - timedelta(hours=up_h)).replace(tzinfo=None),
                None if down_h is None else (now - timedelta(hours=down_h)).replace(tzinfo=None),
                now.replace(tzinfo=None),
            ],
        )
    jobs = [
        (f"job-{state}-{i}", state, (now - timedelta(minutes=i)).replace(tzinfo=None))
        for state, n in PAGE_JOBS.items()
        for i in range(n)
    ]
    con.executemany(
        "INSERT INTO jobs (job_id, fleet, state, updated_at) VALUES (?, 'gen', ?, ?)", jobs
    )
    ledger.record_decision(
        DecisionRecord(
            decision_id="d-earlier",
            ts=now - timedelta(hours=1),
            fleet="gen",
            mode="pulumi",
            placement=None,
            desired_nodes=4,
            changed=True,
            applied=True,
            reason=PAGE_REASON,
            reasons={CHEAP: "rank 1", XL2_B: "rejected: predicted loss 0.42 > 0.30"},
        )
    )


def make_page_daemon(ledger: Ledger, clock: Clock) -> Daemon:
    """A daemon over ``seed_page_history``, after one reconcile, its group observed."""
    seed_page_history(ledger, clock())
    daemon = Daemon(
        settings=DaemonSettings(fleets=(FLEET,)),
        ledger=ledger,
        actuators={"shadow": RecordingActuator(), "pulumi": RecordingActuator()},
        clock=clock,
    )
    daemon.reconcile()
    daemon.views[FLEET.name].group = GroupView(desired=4, instances=4)  # as the fleet job sees it
    return daemon


__all__ = [
    "CHEAP",
    "FLEET",
    "PAGE_COST_USD",
    "PAGE_JOBS",
    "PAGE_ON_DEMAND_USD",
    "PAGE_REASON",
    "XL2_A",
    "XL2_B",
    "ZONE_B",
    "ActuationError",
    "LocalGroups",
    "RecordingActuator",
    "add_nodes",
    "make_page_daemon",
    "make_reconciler",
    "seed_page_history",
    "serve",
    "warn",
]
