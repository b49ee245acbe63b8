"""Demand against moto: the job backlog sets K, the reconcile sizes the fleet's groups to K,
and an idle fleet goes to zero (after the fleet's own idleScaleToZeroMinutes when declared)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from analytics.store import open_history
from reconciler.actuate.shadow import ShadowActuator
from reconciler.core.history.ledger import Ledger
from reconciler.core.settings import DaemonSettings, FleetTarget, ScalingSettings
from reconciler.daemon.daemon import Daemon

from .conftest import AwsFleet, Clock, make_aws_fleet, seed_market


def daemon_for(path: Path, fleet: FleetTarget, clock: Clock, mode: str) -> Daemon:
    settings = DaemonSettings(
        fleets=(fleet,),
        mode=mode,  # type: ignore[arg-type]
        scaling=ScalingSettings(
            acceptable_latency_s=60, default_seconds_per_job=20, idle_to_zero_s=600
        ),
    )
    daemon = Daemon(
        settings=settings,
        ledger=Ledger(open_history(path)),
        actuators={"shadow": ShadowActuator(), "pulumi": ShadowActuator()},
        clock=clock,
    )
    seed_market(daemon.ledger, fleet, now=clock())
    return daemon


def queue_jobs(f: AwsFleet, n: int) -> str:
    (url,) = f.fleet.job_queue_urls
    for i in range(n):
        f.sqs.send_message(QueueUrl=url, MessageBody=f"job {i}")
    return url


def empty(f: AwsFleet, url: str) -> None:
    while msgs := f.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        for m in msgs:
            f.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def test_backlog_sets_k_the_reconcile_holds_it_and_idle_goes_to_zero(
    aws: str, tmp_path: Path
) -> None:
    f = make_aws_fleet(desired=1)
    url = queue_jobs(f, 7)
    # moto stamps launches with the wall clock: the daemon's clock starts there too.
    clock = Clock(datetime.now(UTC))
    daemon = daemon_for(tmp_path / "h.duckdb", f.fleet, clock, "pulumi")
    daemon.observe_fleet()
    # 60 s / 20 s = 3 jobs per node: 7 jobs need 3 nodes, and nothing else sizes the fleet
    assert daemon.fleet_demand(f.fleet, clock()).desired == 3
    daemon.reconcile()
    decision = daemon.reconciler.last_decision["gen"]
    assert decision.applied and "K=3 (7 jobs" in decision.reason
    held = decision.desired_nodes  # K and the spares the planner bought
    assert held is not None and held >= 3 and f.desired() == held
    empty(f, url)
    clock.advance(60)
    daemon.observe_fleet()
    daemon.reconcile()
    assert f.desired() == held  # idle, but not for long yet
    clock.advance(1900)  # idle past idle_to_zero_s, and past the planner's dwell on surplus
    daemon.observe_fleet()
    daemon.reconcile()
    assert daemon.views["gen"].desired == 0 and f.desired() == 0
    assert "idle" in daemon.reconciler.last_decision["gen"].reason
    daemon.ledger.history.close()


def test_a_fleets_own_idle_to_zero_wins_over_the_daemons(aws: str, tmp_path: Path) -> None:
    f = make_aws_fleet(desired=1, idle_to_zero_s=120.0)
    clock = Clock(datetime.now(UTC))
    daemon = daemon_for(tmp_path / "h.duckdb", f.fleet, clock, "shadow")
    daemon.observe_fleet()
    assert daemon.fleet_demand(f.fleet, clock()).desired == 1  # keeps its size for now
    clock.advance(121)
    assert daemon.fleet_demand(f.fleet, clock()).desired == 0  # 2 min, not the daemon's 10
    daemon.ledger.history.close()


def test_shadow_decides_k_but_does_not_touch_the_groups(aws: str, tmp_path: Path) -> None:
    f = make_aws_fleet(desired=1)
    queue_jobs(f, 7)
    daemon = daemon_for(tmp_path / "h.duckdb", f.fleet, Clock(datetime.now(UTC)), "shadow")
    daemon.observe_fleet()
    daemon.reconcile()
    decision = daemon.reconciler.last_decision["gen"]
    assert "K=3" in decision.reason and not decision.applied and f.desired() == 1
    daemon.ledger.history.close()
