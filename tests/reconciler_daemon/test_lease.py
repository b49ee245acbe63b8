"""Two daemon processes on one fleet: one leads, the other stands by, then takes over."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reconciler.daemon.lease import FileLease

from .conftest import T0, AwsFleet, free_port, make_aws_fleet

REPO = Path(__file__).resolve().parents[2]


def test_a_lease_is_held_by_one_holder_at_a_time(tmp_path: Path) -> None:
    first, second = FileLease(tmp_path / "lease"), FileLease(tmp_path / "lease")
    assert first.try_acquire(T0) and not second.try_acquire(T0)
    assert json.loads(second.holder() or "{}")["pid"] == os.getpid()
    first.release()
    assert second.try_acquire(T0)
    second.release()


def test_a_lease_file_replaced_under_the_holder_is_no_longer_held(tmp_path: Path) -> None:
    lease = FileLease(tmp_path / "lease")
    assert lease.try_acquire(T0) and lease.still_held()
    (tmp_path / "lease").unlink()  # someone cleans up var/: a second daemon could lock anew
    rival = FileLease(tmp_path / "lease")
    assert rival.try_acquire(T0)
    assert not lease.still_held()
    rival.release()
    lease.release()


def config(tmp_path: Path, f: AwsFleet, port: int) -> Path:
    path = tmp_path / f"daemon-{port}.toml"
    fleet = f.fleet
    path.write_text(
        f"""
history_path = "{tmp_path / "history.duckdb"}"
lease_path = "{tmp_path / "daemon.lease"}"
api_port = {port}

[cadences]
prices_s = 60
interruptions_s = 1
fleet_s = 5
reconcile_s = 60

[[fleets]]
name = "{fleet.name}"
instance_types = {json.dumps(list(fleet.instance_types))}
subnets = {{ {", ".join(f'"{z}" = "{s}"' for z, s in fleet.subnets.items())} }}
on_demand_group = "{fleet.on_demand_group}"
spot_groups = {{ {", ".join(f'"{p}" = "{g}"' for p, g in fleet.spot_groups.items())} }}
interruption_queue_url = "{fleet.interruption_queue_url}"
on_demand_prices = {{ "g5.xlarge" = 1.006, "g5.2xlarge" = 1.212 }}
"""
    )
    return path


def start(cfg: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "reconciler.daemon", "run", "--config", str(cfg)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def role(port: int) -> str | None:
    try:
        return str(httpx.get(f"http://127.0.0.1:{port}/status", timeout=2).json()["role"])
    except (httpx.HTTPError, ValueError, KeyError):
        return None


def wait_role(port: int, wanted: str, timeout: float = 40) -> None:
    deadline = time.monotonic() + timeout
    while role(port) != wanted:
        assert time.monotonic() < deadline, f"port {port} never became {wanted}"
        time.sleep(0.2)


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for p in started:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


@pytest.mark.slow
def test_two_daemons_on_one_fleet_never_both_lead(
    aws: str, tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    f = make_aws_fleet(desired=1)
    a, b = free_port(), free_port()
    processes.append(start(config(tmp_path, f, a)))
    wait_role(a, "leader")
    processes.append(start(config(tmp_path, f, b)))
    wait_role(b, "standby")
    ready = httpx.get(f"http://127.0.0.1:{b}/readyz", timeout=2)
    assert ready.status_code == 503
    assert str(processes[0].pid) in ready.json()["detail"]
    assert role(a) == "leader"  # still: the standby took nothing
    # the leader works against the emulated AWS meanwhile: it collected and observed
    deadline = time.monotonic() + 30
    while True:
        jobs = httpx.get(f"http://127.0.0.1:{a}/status", timeout=2).json()["jobs"]
        if all(jobs[j]["runs"] >= 1 for j in ("prices", "fleet", "interruptions")):
            break
        assert time.monotonic() < deadline, jobs
        time.sleep(0.2)
    assert all(jobs[j]["failures"] == 0 for j in ("prices", "fleet", "interruptions")), jobs
    assert len(httpx.get(f"http://127.0.0.1:{a}/nodes", timeout=2).json()) == 1

    processes[0].send_signal(signal.SIGTERM)  # the leader goes; the standby takes over
    assert processes[0].wait(20) == 0
    wait_role(b, "leader")
    assert httpx.get(f"http://127.0.0.1:{b}/readyz", timeout=2).status_code == 200
