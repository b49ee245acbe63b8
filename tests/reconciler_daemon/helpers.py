"""Shared builders for the reconcile tests: a fleet, its nodes, a recording actuator, a
served API, and a history with something on every part of the status page."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa
import uvicorn

from reconciler.actuate.base import Applied
from reconciler.actuate.shadow import ShadowActuator
from reconciler.collect.fleet import GroupView
from reconciler.daemon.breaker import Breaker
from reconciler.daemon.cycle import Reconciler
from reconciler.daemon.daemon import Daemon
from reconciler.daemon.errors import ActuationError
from reconciler.daemon.ledger import DecisionRecord, Ledger
from reconciler.daemon.settings import DaemonSettings, FleetTarget, Mode, SafetySettings

from .conftest import T0, Clock, free_port, seed_market

FLEET = FleetTarget(
    name="gen",
    instance_types=("g5.xlarge", "g5.2xlarge"),
    subnets={"us-east-1a": "subnet-0aaa1111", "us-east-1b": "subnet-0bbb2222"},
    autoscaling_group="spotfleet-gen",
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


def make_reconciler(
    ledger: Ledger,
    clock: Clock,
    *,
    mode: Mode = "pulumi",
    actuator: RecordingActuator | None = None,
    fleet: FleetTarget = FLEET,
    **safety: Any,
) -> Reconciler:
    settings = DaemonSettings(fleets=(fleet,), safety=SafetySettings(**safety))
    reconciler = Reconciler(
        ledger=ledger,
        settings=settings,
        actuators={"shadow": ShadowActuator(), "pulumi": actuator or RecordingActuator()},
        breaker=Breaker(ledger, threshold=settings.safety.breaker_failures),
        clock=clock,
        mode=lambda: mode,
    )
    reconciler.load()
    return reconciler


def warn(
    ledger: Ledger, instance_id: str, pool: str = CHEAP, kind: str = "spot_interruption_warning"
) -> None:
    ledger.history.con.execute(
        "INSERT INTO interruption_events (event_id, kind, ts, pool, instance_id, source) "
        "VALUES (?, ?, ?, ?, ?, 'aws.ec2')",
        [f"ev-{instance_id}-{kind}", kind, T0.replace(tzinfo=None), pool, instance_id],
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
    """Prices (CHEAP 0.30 $/h, the others 0.40), capacity that moves, five nodes (two spot in
    CHEAP for 3 h, one spot in ZONE_B for 6 h, one on-demand in XL2_A for 2 h, one spot in
    XL2_B terminated after 4 h), jobs in every state, and an applied decision."""
    seed_market(ledger, FLEET, now=now, prices={CHEAP: 0.30})
    con = ledger.history.con
    con.execute("DELETE FROM capacity_observations")
    dips = {CHEAP: (20, 16, 3), XL2_A: (10, 7, 0), ZONE_B: (5, 0, 4), XL2_B: (14, 13, 1)}
    capacity = []
    for pool, (start_h, end_h, low) in dips.items():
        for step in range(30 * 12 + 1):  # 30 h on a 5-minute grid, ending at now
            hours_ago = 30 - step / 12
            value = low if end_h <= hours_ago < start_h else FLEET.max_nodes
            capacity.append((pool, (now - timedelta(hours=hours_ago)).replace(tzinfo=None), value))
    # One Arrow batch: row by row, the 1,444 rows take a second.
    table = pa.table(
        {
            "pool": [c[0] for c in capacity],
            "ts": pa.array([c[1] for c in capacity], pa.timestamp("us")),
            "capacity": pa.array([c[2] for c in capacity], pa.int32()),
        }
    )
    con.register("_page_capacity", table)
    con.execute(
        "INSERT INTO capacity_observations SELECT pool, ts, capacity, 300, 'test' "
        "FROM _page_capacity"
    )
    con.unregister("_page_capacity")
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
    "RecordingActuator",
    "add_nodes",
    "make_page_daemon",
    "make_reconciler",
    "seed_page_history",
    "serve",
    "warn",
]
