"""Two daemons on two "hosts": ``python -m reconciler.daemon run`` twice, sharing no file (each
its own folder, history and config), excluded only by the DynamoDB lease, against moto's
server in a process of its own.

SIGKILL the leader: the standby takes the lease once it has expired and acts on the fleet.
SIGSTOP a leader past the expiry, let another take over, SIGCONT it: it applies nothing (its
reconciles are refused, recorded as such) and /readyz says ``lease_lost``.

Mode ``pulumi`` is the acting mode; the Pulumi CLI cannot run here, so a ``pulumi`` stub on
the daemons' PATH only passes the start-up check: the stack write-back (``stack_sync``) is
an hour away, and every change to the fleet goes through the Auto Scaling API.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from .conftest import REGION, AwsFleet, free_port, make_aws_fleet
from .lease_aws import create_lease_table
from .test_process import DaemonProcess, daemon_env
from .test_readiness import AWS_ENV, MotoProcess, moto  # noqa: F401 - the fixture

TABLE = "spotfleet-test-daemon-lease"
EXPIRY_S, RENEW_S, RECONCILE_S = 6.0, 1.0, 1.0
# Seconds a daemon process may take, on a busy 2-core machine, between taking the lease and
# its first applied reconcile: opening a new history, the first collection, the first plan.
START_UP_S = 15.0

pytestmark = pytest.mark.slow


def config(folder: Path, port: int) -> Path:
    folder.mkdir()
    path = folder / "daemon.toml"
    path.write_text(
        f"""
api_port = {port}
history_path = "{folder / "history.duckdb"}"
lease_path = "{folder / "unused.lease"}"
mode = "pulumi"

[lease]
kind = "dynamodb"
table = "{TABLE}"
region = "{REGION}"
expiry_s = {EXPIRY_S}
renew_s = {RENEW_S}

[cadences]
prices_s = 2
interruptions_s = 1
job_events_s = 1
fleet_s = 1
reconcile_s = {RECONCILE_S}
stack_sync_s = 3600
retrain_s = 3600
export_s = 3600

[scaling]
acceptable_latency_s = 60
default_seconds_per_job = 20
"""
    )
    return path


class Host:
    """One daemon process, its API and its log."""

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config = config(folder, self.port)
        self.env = env

    def start(self, stack: ExitStack) -> DaemonProcess:
        log = self.config.with_suffix(".log")
        with log.open("ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "reconciler.daemon", "run", "--config", str(self.config)],
                cwd=Path(__file__).resolve().parents[2],
                env=self.env,
                stdout=out,
                stderr=out,
            )
        stack.callback(_kill, proc)
        self.proc = DaemonProcess(proc, log)
        return self.proc

    def get(self, path: str) -> Any:
        return httpx.get(f"{self.url}{path}", timeout=5).json()

    def role(self) -> str | None:
        try:
            return str(self.get("/status")["role"])
        except (httpx.HTTPError, ValueError, KeyError):
            return None

    def decisions(self) -> list[dict[str, Any]]:
        return list(self.get("/decisions?fleet=gen&limit=200"))


def _kill(proc: Any) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGCONT)
        proc.kill()
        proc.wait(30)


def wait_for(what: str, check: Callable[[], bool], timeout_s: float, *logs: Host) -> float:
    """Poll ``check`` until true; the monotonic time it became so."""
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            tails = "\n".join(h.config.with_suffix(".log").read_text()[-2000:] for h in logs)
            raise AssertionError(f"never: {what} (within {timeout_s:.0f} s)\n{tails}")
        time.sleep(0.1)
    return time.monotonic()


def lease_item() -> dict[str, Any]:
    db = boto3.client("dynamodb", region_name=REGION)
    item = db.get_item(TableName=TABLE, Key={"lease_name": {"S": "spotfleet"}}, ConsistentRead=True)
    return {k: next(iter(v.values())) for k, v in item["Item"].items()}


def add_jobs(f: AwsFleet, n: int) -> None:
    for i in range(n):
        f.sqs.send_message(QueueUrl=f.fleet.job_queue_urls[0], MessageBody=f"job {i}")


@pytest.fixture
def hosts(moto: MotoProcess, tmp_path: Path) -> Iterator[tuple[AwsFleet, list[Host], ExitStack]]:  # noqa: F811
    f = make_aws_fleet(desired=1)
    create_lease_table(boto3.client("dynamodb", region_name=REGION), TABLE)
    stub = tmp_path / "bin" / "pulumi"
    stub.parent.mkdir()
    stub.write_text("#!/bin/sh\necho 'pulumi stub: the Pulumi CLI cannot run here' >&2\nexit 1\n")
    stub.chmod(0o755)
    env = daemon_env(
        AWS_ENDPOINT_URL=moto.url,
        SPOTFLEET_DAEMON_FLEETS=f"[{f.fleet.model_dump_json()}]",
        PATH=f"{stub.parent}:{Path(sys.executable).parent}:/usr/bin:/bin",
        **AWS_ENV,
    )
    with ExitStack() as stack:
        yield f, [Host(tmp_path / name, env) for name in ("host-a", "host-b", "host-c")], stack


def test_the_standby_acts_within_expiry_after_the_leader_is_killed(hosts) -> None:
    f, (a, b, _c), stack = hosts
    add_jobs(f, 4)  # K = 2 (3 jobs a node)
    a.start(stack)
    wait_for("a leads", lambda: a.role() == "leader", 60, a)
    b.start(stack)
    wait_for("b stands by", lambda: b.role() == "standby", 60, b)
    ready = httpx.get(f"{b.url}/readyz", timeout=5)
    assert ready.status_code == 503 and f":{a.proc.proc.pid}:" in ready.json()["detail"]
    wait_for("a sizes the fleet to K", lambda: f.desired() >= 2, 60, a)
    assert lease_item()["fencing_token"] == "1"
    sized = f.desired()

    a.proc.send_signal(signal.SIGKILL)
    killed = time.monotonic()
    add_jobs(f, 6)  # K = 4 now: only a live leader can raise the groups
    led = wait_for("b leads", lambda: b.role() == "leader", EXPIRY_S + 30, b)
    acted = wait_for("b raises the fleet", lambda: f.desired() > sized, 60, b)
    took_s, acted_s = led - killed, acted - killed
    print(f"lease taken {took_s:.1f} s after SIGKILL, fleet raised at {acted_s:.1f} s")
    item = lease_item()
    assert item["fencing_token"] == "2" and f":{b.proc.proc.pid}:" in item["holder"]
    # Within the expiry and one cadence of the standby's poll (and a second of slack for
    # two daemons and moto on two cores); its first act after its start-up.
    assert took_s <= EXPIRY_S + RENEW_S + 1.0, took_s
    assert acted_s <= EXPIRY_S + RENEW_S + RECONCILE_S + START_UP_S, acted_s
    applied = [d for d in b.decisions() if d["applied"]]
    assert applied and "K=4" in applied[0]["reason"]


def test_a_leader_paused_past_expiry_refuses_to_act_when_it_resumes(hosts) -> None:
    f, (a, b, c), stack = hosts
    add_jobs(f, 4)
    a.start(stack)
    wait_for("a leads", lambda: a.role() == "leader", 60, a)
    wait_for("a sizes the fleet", lambda: f.desired() >= 2, 60, a)
    b.start(stack)
    wait_for("b stands by", lambda: b.role() == "standby", 60, b)

    a.proc.send_signal(signal.SIGSTOP)
    wait_for("b takes over", lambda: b.role() == "leader", EXPIRY_S + 30, b)
    assert lease_item()["fencing_token"] == "2"
    # b reconciles as the leader (a decision is "applied" only when it changed something,
    # and a has already sized the fleet): none of its decisions is refused for the lease.
    wait_for(
        "b reconciles as the leader",
        lambda: any("lease lost" not in d["reason"] for d in b.decisions()),
        60,
        b,
    )
    b.proc.send_signal(signal.SIGTERM)  # b goes too: nobody may act on what comes next
    assert b.proc.finish(30) is not None and b.proc.returncode == 0
    sized = f.desired()
    add_jobs(f, 6)  # work a leader would scale for
    resumed_at = time.time()
    a.proc.send_signal(signal.SIGCONT)

    def since_resume() -> list[dict[str, Any]]:
        return [d for d in a.decisions() if _epoch(d["ts"]) >= resumed_at]

    wait_for("a reconciles again, three times", lambda: len(since_resume()) >= 3, 60, a)
    after = since_resume()
    assert after and not any(d["applied"] for d in after), after
    assert all("lease lost" in d["reason"] for d in after), [d["reason"] for d in after]
    assert f.desired() == sized  # nothing reached Auto Scaling
    ready = httpx.get(f"{a.url}/readyz", timeout=5)
    assert ready.status_code == 503 and ready.json()["reason"] == "lease_lost"
    log = a.config.with_suffix(".log").read_text()
    assert "this daemon's token 1 is superseded" in log
    # A restarted daemon stands by behind the lease's holder, or takes it when it is free:
    # here b released it, so c takes it with the next token.
    c.start(stack)
    wait_for("c leads", lambda: c.role() == "leader", 60, c)
    assert lease_item()["fencing_token"] == "3"


def _epoch(ts: str) -> float:
    return datetime.fromisoformat(ts).timestamp()
