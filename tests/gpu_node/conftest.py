from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer

from tests.gpu_node.aws_env import Fleet, aws_env, free_port, make_fleet
from tests.gpu_node.imds_server import FakeImds
from tests.gpu_node.processes import NodeProcess


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    saved = {key: os.environ.get(key) for key in aws_env(endpoint)}
    os.environ.update(aws_env(endpoint))
    yield endpoint
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    server.stop()


@pytest.fixture
def fleet(moto_endpoint: str) -> Fleet:
    return make_fleet(moto_endpoint)


@pytest.fixture
def imds() -> Iterator[FakeImds]:
    server = FakeImds().start()
    server.set("meta-data/instance-id", "i-0123456789abcdef0")
    server.set("meta-data/instance-type", "g5.xlarge")
    server.set("meta-data/placement/availability-zone", "us-east-1b")
    server.set("meta-data/placement/region", "us-east-1")
    server.set("meta-data/autoscaling/target-lifecycle-state", "InService")
    yield server
    server.stop()


Spawn = Callable[[dict[str, str], str], NodeProcess]


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Spawn]:
    """Start real node processes (``tests.gpu_node.fake_node``); all are killed at the end."""
    started: list[NodeProcess] = []

    def start(env: dict[str, str], name: str) -> NodeProcess:
        node = NodeProcess("tests.gpu_node.fake_node", env, tmp_path / f"{name}.log")
        started.append(node)
        return node

    yield start
    for node in started:
        node.stop()
