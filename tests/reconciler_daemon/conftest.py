"""Fixtures for the daemon's tests: moto's server over real HTTP, a history, a clock.

AWS is moto's ``ThreadedMotoServer`` on 127.0.0.1 with a free port, reached through
``AWS_ENDPOINT_URL`` exactly as the daemon reaches AWS; boto3 is never patched.
"""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from moto.server import ThreadedMotoServer

from analytics.ingest.prices import ingest_spot_price_pages
from analytics.store import History, open_history
from reconciler.daemon.ledger import Ledger
from reconciler.daemon.settings import FleetTarget

REGION = "us-east-1"
T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


class Clock:
    """An injected clock: time moves only when a test says so."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A clean emulated account for each test, reached the way the daemon reaches AWS;
    the environment is restored after the test, so other suites never see it."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    requests.post(f"{moto_endpoint}/moto-api/reset", timeout=10)
    return moto_endpoint


@dataclass
class AwsFleet:
    fleet: FleetTarget
    sqs: Any
    ec2: Any
    autoscaling: Any

    def instances(self) -> list[dict[str, Any]]:
        groups = self.autoscaling.describe_auto_scaling_groups(
            AutoScalingGroupNames=[self.fleet.autoscaling_group]
        )["AutoScalingGroups"]
        return list(groups[0]["Instances"])

    def desired(self) -> int:
        groups = self.autoscaling.describe_auto_scaling_groups(
            AutoScalingGroupNames=[self.fleet.autoscaling_group]
        )["AutoScalingGroups"]
        return int(groups[0]["DesiredCapacity"])


def make_aws_fleet(
    name: str = "gen",
    desired: int = 2,
    zones: tuple[str, ...] = ("us-east-1a", "us-east-1b"),
    **overrides: Any,
) -> AwsFleet:
    ec2 = boto3.client("ec2", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    autoscaling = boto3.client("autoscaling", region_name=REGION)
    subnets = {
        s["AvailabilityZone"]: s["SubnetId"]
        for s in ec2.describe_subnets()["Subnets"]
        if s["AvailabilityZone"] in zones
    }
    template = ec2.create_launch_template(
        LaunchTemplateName=f"{name}-lt-{uuid.uuid4().hex[:6]}",
        LaunchTemplateData={"ImageId": "ami-12c6146b", "InstanceType": "g5.xlarge"},
    )["LaunchTemplate"]
    group = f"spotfleet-{name}"
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName=group,
        LaunchTemplate={"LaunchTemplateId": template["LaunchTemplateId"], "Version": "$Latest"},
        MinSize=0,
        MaxSize=6,
        DesiredCapacity=desired,
        VPCZoneIdentifier=subnets["us-east-1a"],
    )
    queues = {
        q: sqs.create_queue(QueueName=f"spotfleet-{name}-{q}")["QueueUrl"]
        for q in ("interruptions", "job-events", "jobs")
    }
    fields: dict[str, Any] = {
        "name": name,
        "region": REGION,
        "instance_types": ("g5.xlarge", "g5.2xlarge"),
        "subnets": subnets,
        "min_nodes": 0,
        "max_nodes": 6,
        "autoscaling_group": group,
        "interruption_queue_url": queues["interruptions"],
        "job_events_queue_url": queues["job-events"],
        "job_queue_urls": (queues["jobs"],),
        "on_demand_prices": {"g5.xlarge": 1.006, "g5.2xlarge": 1.212},
    }
    fields.update(overrides)
    return AwsFleet(FleetTarget(**fields), sqs, ec2, autoscaling)


@pytest.fixture
def history(tmp_path: Path) -> Iterator[History]:
    with open_history(tmp_path / "history.duckdb") as h:
        yield h


@pytest.fixture
def ledger(history: History) -> Ledger:
    return Ledger(history)


def seed_market(
    ledger: Ledger,
    fleet: FleetTarget,
    *,
    now: datetime,
    prices: dict[str, float] | None = None,
    hours: float = 30.0,
) -> None:
    """A recorded market: hourly prices and capacity for every pool of ``fleet``."""
    prices = prices or {}
    records, capacity = [], []
    steps = int(hours)
    for pool in fleet.pools():
        _region, zone, itype = pool.split("/")
        for h in range(steps + 1):
            ts = now - timedelta(hours=steps - h)
            records.append(
                {
                    "AvailabilityZone": zone,
                    "InstanceType": itype,
                    "ProductDescription": "Linux/UNIX",
                    "SpotPrice": str(prices.get(pool, 0.40)),
                    "Timestamp": ts,
                }
            )
            capacity.append((pool, ts.replace(tzinfo=None), fleet.max_nodes, 3600))
    ingest_spot_price_pages(ledger.history, [{"SpotPriceHistory": records}], source="test")
    ledger.history.con.executemany(
        "INSERT INTO capacity_observations VALUES (?, ?, ?, ?, 'test')", capacity
    )
    od = [
        (fleet.region, t, "Linux", datetime(2000, 1, 1), p, "test")
        for t, p in fleet.on_demand_prices.items()
    ]
    ledger.history.con.executemany(
        "INSERT OR IGNORE INTO on_demand_prices VALUES (?, ?, ?, ?, ?, ?)", od
    )


def warning_envelope(instance_id: str, *, event_id: str | None = None, at: datetime = T0) -> str:
    return json.dumps(
        {
            "version": "0",
            "id": event_id or str(uuid.uuid4()),
            "detail-type": "EC2 Spot Instance Interruption Warning",
            "source": "aws.ec2",
            "account": "123456789012",
            "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": REGION,
            "resources": [f"arn:aws:ec2:{REGION}:123456789012:instance/{instance_id}"],
            "detail": {"instance-id": instance_id, "instance-action": "terminate"},
        }
    )


def rebalance_envelope(instance_id: str, *, at: datetime = T0) -> str:
    return json.dumps(
        {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "EC2 Instance Rebalance Recommendation",
            "source": "aws.ec2",
            "account": "123456789012",
            "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": REGION,
            "resources": [f"arn:aws:ec2:{REGION}:123456789012:instance/{instance_id}"],
            "detail": {"instance-id": instance_id},
        }
    )
