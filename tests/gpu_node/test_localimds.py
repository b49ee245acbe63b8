"""The local IMDS stand-in that local node processes (and the demo) use."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from analytics.kinds import Kind
from gpu_node.imds import ImdsClient
from gpu_node.localimds import LocalImds
from gpu_node.notices import InterruptionNotice
from gpu_node.watcher import ImdsWatcher
from tests.gpu_node.aws_env import free_port
from tests.gpu_node.harness import wait_for
from tests.gpu_node.processes import ROOT


@pytest.fixture
def local() -> Iterator[LocalImds]:
    with LocalImds() as imds:
        yield imds


def test_each_instance_sees_its_own_identity_over_imdsv2_only(local: LocalImds) -> None:
    a = local.add("i-demo-1", instance_type="g5.xlarge", zone="us-west-2b")
    b = local.add("i-demo-2", instance_type="g5.2xlarge", zone="us-east-1c")
    assert ImdsClient(base_url=a).get("meta-data/instance-id") == "i-demo-1"
    assert ImdsClient(base_url=a).get("meta-data/placement/region") == "us-west-2"
    assert ImdsClient(base_url=b).get("meta-data/instance-type") == "g5.2xlarge"
    assert httpx.get(f"{a}/latest/meta-data/instance-id").status_code == 401
    assert httpx.put(f"{a}/latest/api/token").status_code == 400  # the TTL header is required
    local.remove("i-demo-2")
    assert ImdsClient(base_url=b).get("meta-data/instance-id") is None


def test_notices_appear_where_ec2_writes_them(local: LocalImds) -> None:
    base = local.add("i-demo-1", instance_type="g5.xlarge", zone="us-east-1a")
    client = ImdsClient(base_url=base)
    assert client.get("meta-data/spot/instance-action") is None
    local.spot_interruption("i-demo-1", datetime(2026, 11, 22, 12, 2, tzinfo=UTC))
    notice = json.loads(client.get("meta-data/spot/instance-action") or "{}")
    assert notice == {"action": "terminate", "time": "2026-11-22T12:02:00Z"}
    local.set_target_lifecycle_state("i-demo-1", "Terminated")
    assert client.get("meta-data/autoscaling/target-lifecycle-state") == "Terminated"


def test_admin_actions_become_notices_for_the_watcher(local: LocalImds) -> None:
    base = local.add("i-demo-1", instance_type="g5.xlarge", zone="us-west-2b")
    seen: list[InterruptionNotice] = []
    watcher = ImdsWatcher(imds=ImdsClient(base_url=base), interval=1.0, emit=seen.append)
    for action in ("rebalance", "spot-interruption?in_seconds=30", "asg-termination"):
        assert httpx.post(f"{base}/_local/{action}").status_code == 200
    watcher.poll_once()
    assert {n.kind for n in seen} == {
        Kind.REBALANCE_RECOMMENDATION,
        Kind.SPOT_INTERRUPTION_WARNING,
        Kind.ASG_TERMINATION,
    }
    httpx.post(f"{base}/_local/reset")
    assert ImdsClient(base_url=base).get("meta-data/spot/instance-action") is None
    assert httpx.post(f"{base}/_local/explode").status_code == 404
    assert httpx.post(f"{local.url}/i-nobody/_local/reset").status_code == 404


def test_the_cli_serves_it() -> None:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gpu_node",
            "local-imds",
            "--port",
            str(port),
            "--instance-id",
            "i-cli",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        client = ImdsClient(base_url=f"http://127.0.0.1:{port}/i-cli")

        def answers() -> str | None:
            try:
                return client.get("meta-data/instance-id")
            except Exception:
                return None

        assert wait_for(answers, timeout=20) == "i-cli"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
