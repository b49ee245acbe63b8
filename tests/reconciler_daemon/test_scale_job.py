"""The scale job against moto: backlog → SetDesiredCapacity, down to zero after idle."""

from __future__ import annotations

from pathlib import Path

from analytics.store import open_history
from reconciler.actuate.shadow import ShadowActuator
from reconciler.daemon.daemon import Daemon
from reconciler.daemon.ledger import Ledger
from reconciler.daemon.settings import DaemonSettings, ScalingSettings

from .conftest import Clock, make_aws_fleet


def daemon_for(path: Path, fleet: object, clock: Clock, mode: str) -> Daemon:
    settings = DaemonSettings(
        fleets=(fleet,),  # type: ignore[arg-type]
        mode=mode,  # type: ignore[arg-type]
        scaling=ScalingSettings(
            acceptable_latency_s=60, default_seconds_per_job=20, idle_to_zero_s=600
        ),
    )
    return Daemon(
        settings=settings,
        ledger=Ledger(open_history(path)),
        actuators={"shadow": ShadowActuator(), "pulumi": ShadowActuator()},
        clock=clock,
    )


def test_backlog_scales_out_and_idle_scales_to_zero(aws: str, tmp_path: Path) -> None:
    f = make_aws_fleet(desired=1)
    (url,) = f.fleet.job_queue_urls
    for i in range(7):
        f.sqs.send_message(QueueUrl=url, MessageBody=f"job {i}")
    clock = Clock()
    daemon = daemon_for(tmp_path / "h.duckdb", f.fleet, clock, "pulumi")
    daemon.observe_fleet()
    # 60 s / 20 s = 3 jobs per node: 7 jobs need 3 nodes
    assert daemon.scale_fleet(f.fleet) == 3 and f.desired() == 3
    while msgs := f.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        for m in msgs:
            f.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    assert daemon.scale_fleet(f.fleet) == 3  # idle, but not for long yet
    clock.advance(601)
    assert daemon.scale_fleet(f.fleet) == 0 and f.desired() == 0
    rows = daemon.ledger.rows(
        "SELECT status, detail FROM fleet_actions WHERE kind = 'set_desired' ORDER BY ts"
    )
    assert [r[0] for r in rows] == ["applied", "applied"]
    assert "7 jobs" in rows[0][1] and "idle" in rows[1][1]
    daemon.ledger.history.close()


def test_shadow_scaling_records_but_does_not_touch_the_group(aws: str, tmp_path: Path) -> None:
    f = make_aws_fleet(desired=1)
    (url,) = f.fleet.job_queue_urls
    for i in range(7):
        f.sqs.send_message(QueueUrl=url, MessageBody=f"job {i}")
    daemon = daemon_for(tmp_path / "h.duckdb", f.fleet, Clock(), "shadow")
    daemon.observe_fleet()
    assert daemon.scale_fleet(f.fleet) == 3 and f.desired() == 1
    [(status,)] = daemon.ledger.rows("SELECT status FROM fleet_actions WHERE kind = 'set_desired'")
    assert status == "skipped"
    daemon.ledger.history.close()
