"""boto3 clients for the node, made in one place: region, retries, connection pool.

boto3 honours ``AWS_ENDPOINT_URL`` (and the per-service ``AWS_ENDPOINT_URL_<SERVICE>``), which is
how the tests and the local demo point the node at the emulation server.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config

__all__ = ["AwsClients", "make_clients"]


@dataclass(frozen=True)
class AwsClients:
    sqs: Any
    s3: Any
    sns: Any
    autoscaling: Any


def make_clients(*, region: str | None) -> AwsClients:
    session = boto3.session.Session(region_name=region)
    # The worker, the visibility heartbeat, the drain and the cache threads share clients.
    config = Config(
        retries={"max_attempts": 5, "mode": "standard"},
        max_pool_connections=32,
        connect_timeout=5,
        read_timeout=30,  # longer than the 20 s SQS long poll
    )
    return AwsClients(
        sqs=session.client("sqs", config=config),
        s3=session.client("s3", config=config),
        sns=session.client("sns", config=config),
        autoscaling=session.client("autoscaling", config=config),
    )
