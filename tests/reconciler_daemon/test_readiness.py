"""Readiness tells the truth: ``/readyz`` and the metrics say not ready, with the reason,
while AWS is unreachable (moto's server killed, then started again), once the lease file is
deleted, and while the history cannot be written."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import duckdb
import httpx
import pytest

from reconciler.core.readiness import SignalHealth, judge
from reconciler.daemon.health import Health

from .conftest import REGION, free_port, make_aws_fleet
from .test_process import daemon_env, daemon_process, wait_ready, write_config

FAST = """
[cadences]
prices_s = 1
interruptions_s = 0.5
job_events_s = 0.5
fleet_s = 0.5

history_s = 0.5
reconcile_s = 1
retrain_s = 3600
export_s = 3600

[readiness]
missed_runs = 3
min_stale_s = 2
"""

AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
}


class MotoProcess:
    """moto's server in a process of its own, so a test can kill it as AWS goes away."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{self.url}/moto-api/", timeout=1)
                return
            except httpx.TransportError:
                assert time.monotonic() < deadline, "moto's server did not start"
                time.sleep(0.1)

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
            self.proc = None


@pytest.fixture
def moto(monkeypatch: pytest.MonkeyPatch) -> Iterator[MotoProcess]:
    server = MotoProcess(free_port())
    server.start()
    monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)
    for key, value in AWS_ENV.items():
        monkeypatch.setenv(key, value)
    yield server
    server.kill()


def poll_ready(
    url: str,
    *,
    status: int,
    until: Callable[[dict[str, Any]], bool] = lambda body: True,
    timeout_s: float = 60.0,
) -> dict[str, Any]:
    """Poll /readyz until it answers ``status`` with a body ``until`` accepts; that body."""
    deadline = time.monotonic() + timeout_s
    last: object = None
    while time.monotonic() < deadline:
        r = httpx.get(f"{url}/readyz", timeout=5)
        body = dict(r.json())
        if r.status_code == status and until(body):
            return body
        last = body
        time.sleep(0.2)
    raise AssertionError(f"/readyz never answered {status} as expected; last: {last}")


def stale(body: dict[str, Any]) -> set[str]:
    return {s["name"] for s in body["signals"] if s["stale"]}


def metric(url: str, name: str) -> str:
    text = httpx.get(f"{url}/metrics", timeout=5).text
    return "\n".join(line for line in text.splitlines() if line.startswith(name))


def test_readyz_says_not_ready_while_aws_is_down_and_ready_again_after(
    moto: MotoProcess, tmp_path: Path
) -> None:
    fleet = make_aws_fleet().fleet
    port = free_port()
    env = daemon_env(
        AWS_ENDPOINT_URL=moto.url,
        SPOTFLEET_DAEMON_FLEETS=f"[{fleet.model_dump_json()}]",
        **AWS_ENV,
    )
    url = f"http://127.0.0.1:{port}"
    with daemon_process(write_config(tmp_path, port, FAST), env) as proc:
        wait_ready(port, proc)
        poll_ready(url, status=200, until=lambda b: all(s["succeeded"] for s in b["signals"]))
        assert 'spotfleet_daemon_ready{reason="ready"} 1.0' in metric(url, "spotfleet_daemon_ready")

        moto.kill()
        body = poll_ready(url, status=503, until=lambda b: "interruptions" in stale(b))
        assert body["reason"] == "signal_stale"
        assert "interruptions: no success for" in body["detail"]
        assert "last error: AwsCallError: sqs:" in body["detail"]
        assert "history" not in stale(body)
        assert 'spotfleet_daemon_ready{reason="signal_stale"} 0.0' in metric(
            url, "spotfleet_daemon_ready"
        )
        assert 'spotfleet_daemon_signal_stale{signal="interruptions"} 1.0' in metric(
            url, "spotfleet_daemon_signal_stale"
        )

        moto.start()  # AWS back, empty: the fleet's resources as the stack would make them
        make_aws_fleet()
        body = poll_ready(url, status=200)
        assert body["reason"] == "ready" and not stale(body)
        proc.send_signal(signal.SIGTERM)
        output = proc.finish()
    assert proc.returncode == 0, output[-3000:]


def test_a_deleted_lease_file_makes_the_leader_say_it_no_longer_leads(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with daemon_process(write_config(tmp_path, port)) as proc:
        wait_ready(port, proc)
        assert metric(url, "spotfleet_daemon_leader ") == "spotfleet_daemon_leader 1.0"
        os.unlink(tmp_path / "daemon.lease")
        body = poll_ready(url, status=503, timeout_s=10)
        assert body["reason"] == "lease_lost"
        assert "no longer held" in body["detail"]
        assert metric(url, "spotfleet_daemon_leader ") == "spotfleet_daemon_leader 0.0"
        assert re.search(
            r'spotfleet_daemon_ready\{reason="lease_lost"\} 0\.0',
            metric(url, "spotfleet_daemon_ready"),
        )


# -- the judgement itself, on hand-built facts


def _signal(name: str, age_s: float, error: str | None = None) -> SignalHealth:
    return SignalHealth(name, age_s, 10.0, True, error)


def test_the_first_failing_condition_is_the_reason_and_every_stale_signal_is_named() -> None:
    fresh = [_signal("prices", 1), _signal("fleet", 2)]
    assert judge(leader=True, scheduler_running=True, signals=fresh).reason == "ready"
    stale = [_signal("prices", 11, "AwsCallError: x"), _signal("fleet", 12)]
    verdict = judge(leader=True, scheduler_running=True, signals=stale)
    assert verdict.reason == "signal_stale" and not verdict.ready
    assert verdict.detail == (
        "stale signals: prices: no success for 11 s (limit 10 s); last error: AwsCallError: x; "
        "fleet: no success for 12 s (limit 10 s)"
    )
    history = [*stale, _signal("history", 30, "ConnectionException: closed")]
    assert judge(leader=True, scheduler_running=True, signals=history).reason == (
        "history_unwritable"
    )
    assert judge(leader=True, scheduler_running=False, signals=fresh).reason == "schedule_stopped"
    assert judge(leader=False, scheduler_running=True, signals=history).reason == "lease_lost"


def test_a_signal_is_stale_only_past_its_limit_since_its_last_success() -> None:
    now = [100.0]
    health = Health(limits={"prices": 5.0}, leader=lambda: True, monotonic=lambda: now[0])
    health.expect("prices")
    health.expect("retrain")  # not watched
    now[0] = 104.0
    assert not health.readiness(scheduler_running=True).signals[0].stale
    now[0] = 106.0
    (signal_,) = health.readiness(scheduler_running=True).signals
    assert signal_.stale and not signal_.succeeded
    health.record("prices", None)
    now[0] = 110.0
    health.record("prices", "AwsCallError: down")  # a failure does not refresh it
    verdict = health.readiness(scheduler_running=True)
    assert verdict.ready and verdict.signals[0].last_error == "AwsCallError: down"
    now[0] = 111.5
    assert health.readiness(scheduler_running=True).reason == "signal_stale"


def test_the_history_heartbeat_failing_reads_as_an_unwritable_history(tmp_path: Path) -> None:
    from analytics.store import open_history
    from reconciler.core.history.ledger import Ledger
    from reconciler.daemon.health import heartbeat

    from .conftest import T0

    now = [0.0]
    history = open_history(tmp_path / "h.duckdb")
    ledger = Ledger(history)
    health = Health(limits={"history": 1.0}, leader=lambda: True, monotonic=lambda: now[0])
    health.expect("history")
    heartbeat(ledger, T0)
    health.record("history", None)
    assert ledger.get_state("heartbeat") == T0.isoformat()
    history.close()  # what a full disk or a lost volume looks like to the daemon: writes fail
    with pytest.raises(duckdb.Error) as caught:
        heartbeat(ledger, T0)
    health.record("history", f"{type(caught.value).__name__}: {caught.value}")
    now[0] = 2.0
    verdict = health.readiness(scheduler_running=True)
    assert verdict.reason == "history_unwritable"
    assert "the history is not writable: history: no success for 2 s" in verdict.detail


def test_boto3_reaches_the_moto_process(moto: MotoProcess) -> None:
    # The readiness test's premise: the emulation answers, then stops answering when killed.
    sqs = boto3.client("sqs", region_name=REGION)
    assert "QueueUrls" not in sqs.list_queues()


def test_a_deleted_lease_file_stops_the_next_action_before_it_reaches_aws(
    aws: str, tmp_path: Path
) -> None:
    from analytics.store import open_history
    from reconciler.actuate.shadow import ShadowActuator
    from reconciler.core.history.ledger import Ledger
    from reconciler.core.settings import DaemonSettings, ScalingSettings
    from reconciler.daemon.daemon import Daemon
    from reconciler.daemon.lease import FileLease

    from .conftest import T0, Clock, seed_market

    f = make_aws_fleet(desired=1)
    for i in range(7):
        f.sqs.send_message(QueueUrl=f.fleet.job_queue_urls[0], MessageBody=f"job {i}")
    lease = FileLease(tmp_path / "daemon.lease")
    assert lease.try_acquire(T0)
    daemon = Daemon(
        settings=DaemonSettings(
            fleets=(f.fleet,),
            mode="pulumi",
            scaling=ScalingSettings(acceptable_latency_s=60, default_seconds_per_job=20),
        ),
        ledger=Ledger(open_history(tmp_path / "h.duckdb")),
        actuators={"shadow": ShadowActuator(), "pulumi": ShadowActuator()},
        clock=Clock(),
        leader=lease.still_held,
    )
    daemon.observe_fleet()
    seed_market(daemon.ledger, f.fleet, now=Clock()())
    os.unlink(tmp_path / "daemon.lease")
    daemon.reconcile()
    decision = daemon.reconciler.last_decision["gen"]
    assert "K=3" in decision.reason  # the backlog wants more nodes
    assert not decision.applied and "lease lost" in decision.reason
    assert f.desired() == 1
    assert daemon.health.readiness(scheduler_running=True).reason == "lease_lost"
    daemon.ledger.history.close()
    lease.release()
