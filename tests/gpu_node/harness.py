"""An in-process node with the production wiring (``Node``), for tests that need no process."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from typing import Any

from gpu_node.aws import make_clients
from gpu_node.backend import Backend
from gpu_node.identity import NodeIdentity
from gpu_node.imds import ImdsClient
from gpu_node.node import Node, signal_notice
from gpu_node.settings import NodeSettings
from tests.gpu_node.aws_env import REGION, Fleet

IDENTITY = NodeIdentity(
    instance_id="i-inprocess",
    instance_type="g5.xlarge",
    availability_zone="us-east-1a",
    region=REGION,
)


def settings_for(fleet: Fleet, **env: str) -> NodeSettings:
    values: dict[str, Any] = {
        key.removeprefix("SPOTFLEET_").lower(): value
        for key, value in fleet.settings_env(**env).items()
    }
    return NodeSettings(**values)


def start_node(fleet: Fleet, backend: Backend, *, imds_url: str | None = None, **env: str) -> Node:
    node = Node(
        settings=settings_for(fleet, **env),
        identity=IDENTITY,
        clients=make_clients(region=REGION),
        imds=ImdsClient(base_url=imds_url) if imds_url else None,
    )
    node.watch()
    node.load(backend)
    node.start_worker()
    return node


def stop_node(node: Node, timeout: float = 10.0) -> int:
    node.drain.notify(signal_notice(signal.SIGTERM))
    deadline = time.monotonic() + timeout
    while not node.drain.finished.is_set():
        assert time.monotonic() < deadline, "node did not drain"
        time.sleep(0.05)
    node.close()
    return node.wait()


def wait_for(check: Callable[[], Any], *, timeout: float = 15.0, every: float = 0.1) -> Any:
    """Poll ``check`` until it returns something truthy; fail the test at the timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {check}")
        time.sleep(every)
