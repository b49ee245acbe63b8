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
from reconciler.core.history.ledger import Ledger
from reconciler.core.history.placement_scores import ScoreRow, record_scores
from reconciler.core.settings import FleetTarget
from reconciler.embedded.placement_scores import local_zone_id

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


def fleet_groups(
    name: str, zones: tuple[str, ...], types: tuple[str, ...], region: str = REGION
) -> dict[str, Any]:
    """The fleet's groups as the stack names them: one spot group per pool, one on-demand."""
    return {
        "spot_groups": {
            f"{region}/{z}/{t}": f"spotfleet-{name}-{z}-{t.replace('.', '-')}"
            for z in zones
            for t in types
        },
        "on_demand_group": f"spotfleet-{name}-on-demand",
    }


@dataclass
class AwsFleet:
    fleet: FleetTarget
    sqs: Any
    ec2: Any
    autoscaling: Any

    def _groups(self) -> list[dict[str, Any]]:
        return list(
            self.autoscaling.describe_auto_scaling_groups(
                AutoScalingGroupNames=list(self.fleet.groups())
            )["AutoScalingGroups"]
        )

    def instances(self) -> list[dict[str, Any]]:
        return [i for g in self._groups() for i in g["Instances"]]

    def desired(self) -> int:
        return sum(int(g["DesiredCapacity"]) for g in self._groups())

    def desired_by_pool(self) -> dict[str, int]:
        pool_of = {g: p for p, g in self.fleet.spot_groups.items()}
        pool_of[self.fleet.on_demand_group] = "on-demand"
        return {
            pool_of[g["AutoScalingGroupName"]]: int(g["DesiredCapacity"]) for g in self._groups()
        }


def make_aws_fleet(
    name: str = "gen",
    desired: int = 2,
    zones: tuple[str, ...] = ("us-east-1a", "us-east-1b"),
    **overrides: Any,
) -> AwsFleet:
    """The fleet's groups in moto: one per pool (a launch template per type), and on-demand;
    ``desired`` nodes start in the first pool's group."""
    ec2 = boto3.client("ec2", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    autoscaling = boto3.client("autoscaling", region_name=REGION)
    subnets = {
        s["AvailabilityZone"]: s["SubnetId"]
        for s in ec2.describe_subnets()["Subnets"]
        if s["AvailabilityZone"] in zones
    }
    types = ("g5.xlarge", "g5.2xlarge")
    templates = {
        t: ec2.create_launch_template(
            LaunchTemplateName=f"{name}-{t.replace('.', '-')}-{uuid.uuid4().hex[:6]}",
            LaunchTemplateData={"ImageId": "ami-12c6146b", "InstanceType": t},
        )["LaunchTemplate"]["LaunchTemplateId"]
        for t in types
    }
    groups = fleet_groups(name, tuple(sorted(subnets)), types)
    first = True
    for pool, group in groups["spot_groups"].items():
        _region, zone, itype = pool.split("/")
        autoscaling.create_auto_scaling_group(
            AutoScalingGroupName=group,
            LaunchTemplate={"LaunchTemplateId": templates[itype], "Version": "$Latest"},
            MinSize=0,
            MaxSize=6,
            DesiredCapacity=desired if first else 0,
            VPCZoneIdentifier=subnets[zone],
        )
        first = False
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName=groups["on_demand_group"],
        LaunchTemplate={"LaunchTemplateId": templates[types[0]], "Version": "$Latest"},
        MinSize=0,
        MaxSize=6,
        DesiredCapacity=0,
        VPCZoneIdentifier=",".join(subnets[z] for z in sorted(subnets)),
    )
    queues = {
        q: sqs.create_queue(QueueName=f"spotfleet-{name}-{q}")["QueueUrl"]
        for q in ("interruptions", "job-events", "jobs")
    }
    fields: dict[str, Any] = {
        "name": name,
        "region": REGION,
        "instance_types": types,
        "subnets": subnets,
        "min_nodes": 0,
        "max_nodes": 6,
        **groups,
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
    scores: bool = True,
) -> None:
    """A recorded market as a daemon on AWS collects it, hourly for every pool of ``fleet``:
    spot prices, the price collector's capacity guess (the fleet's maximum), and a placement
    score of 10 for the fleet's ``max_nodes`` request (room for all of it: what the daemon
    decides from; ``scores=False``: none, as before a collector ran)."""
    prices = prices or {}
    records, capacity, room = [], [], []
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
            if scores:
                room.append(
                    ScoreRow(
                        _region, zone, local_zone_id(zone), itype, fleet.max_nodes, 10, ts, "t"
                    )
                )
    ingest_spot_price_pages(ledger.history, [{"SpotPriceHistory": records}], source="test")
    ledger.history.con.executemany(
        "INSERT INTO capacity_observations VALUES (?, ?, ?, ?, 'test')", capacity
    )
    record_scores(ledger, room)
    od = [
        (fleet.region, t, "Linux", datetime(2000, 1, 1), p, "test")
        for t, p in fleet.on_demand_prices.items()
    ]
    ledger.history.con.executemany(
        "INSERT OR IGNORE INTO on_demand_prices VALUES (?, ?, ?, ?, ?, ?)", od
    )


def record_room(ledger: Ledger, fleet: FleetTarget, *, at: datetime, score: int = 10) -> None:
    """Placement scores for ``fleet``'s ``max_nodes`` request in every pool, as the daemon's
    collector records what GetSpotPlacementScores answers (moto does not offer it)."""
    rows = []
    for pool in fleet.pools():
        region, zone, itype = pool.split("/")
        rows.append(
            ScoreRow(region, zone, local_zone_id(zone), itype, fleet.max_nodes, score, at, "test")
        )
    record_scores(ledger, rows)


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
