"""The local IMDS stand-in that local node processes (and the demo) use."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from gpu_node.imds import ImdsClient
from gpu_node.localimds import LocalImds
from gpu_node.notices import InterruptionNotice, NoticeKind
from gpu_node.watcher import ImdsWatcher
from tests.gpu_node.aws_env import free_port
from tests.gpu_node.harness import wait_for
from tests.gpu_node.processes import ROOT


@pytest.fixture
def local() -> Iterator[LocalImds]:
    imds = LocalImds(instance_id="i-demo-1", availability_zone="us-west-2b").start()
    yield imds
    imds.stop()


def test_it_serves_the_identity_over_imdsv2_only(local: LocalImds) -> None:
    client = ImdsClient(base_url=local.url)
    assert client.get("meta-data/instance-id") == "i-demo-1"
    assert client.get("meta-data/placement/region") == "us-west-2"
    assert httpx.get(f"{local.url}/latest/meta-data/instance-id").status_code == 401


def test_admin_actions_become_notices_for_the_watcher(local: LocalImds) -> None:
    seen: list[InterruptionNotice] = []
    watcher = ImdsWatcher(imds=ImdsClient(base_url=local.url), interval=1.0, emit=seen.append)
    for action in ("rebalance", "spot-interruption?in_seconds=30", "asg-termination"):
        assert httpx.post(f"{local.url}/_local/{action}").status_code == 200
    watcher.poll_once()
    assert {n.kind for n in seen} == {
        NoticeKind.REBALANCE_RECOMMENDATION,
        NoticeKind.SPOT_INTERRUPTION,
        NoticeKind.ASG_TERMINATION,
    }
    httpx.post(f"{local.url}/_local/reset")
    assert ImdsClient(base_url=local.url).get("meta-data/spot/instance-action") is None
    assert httpx.post(f"{local.url}/_local/explode").status_code == 404


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
        client = ImdsClient(base_url=f"http://127.0.0.1:{port}")

        def answers() -> str | None:
            try:
                return client.get("meta-data/instance-id")
            except Exception:
                return None

        assert wait_for(answers, timeout=20) == "i-cli"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
