"""The daemon's fleets come from the stack: its file and its outputs, subnets' zones from EC2
(moto's DescribeSubnets over HTTP), never a hand copy."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
import yaml

from reconciler.core.errors import DaemonError
from reconciler.core.settings import DaemonSettings
from reconciler.daemon.stack_fleets import with_stack_fleets
from stacks.spec import fleet_groups, parse_fleets

from .conftest import REGION


def stack(tmp_path: Path, subnets: list[str]) -> tuple[Path, Path]:
    declared = {
        "name": "gen",
        "instanceTypes": ["g5.xlarge", "g5.2xlarge"],
        "subnetIds": subnets,
        "amiId": "ami-0abc1234",
        "minNodes": 0,
        "maxNodes": 4,
        "model": "stabilityai/sdxl-turbo",
        "budgetUsdPerHour": 5.0,
        "idleScaleToZeroMinutes": 20,
    }
    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_text(
        yaml.safe_dump({"config": {"aws:region": REGION, "spotfleet:fleets": [declared]}})
    )
    [spec] = parse_fleets([declared])
    groups = fleet_groups(spec, "spotfleet-dev")
    outputs = {
        "gen": {
            "poolGroups": [
                {
                    "instanceType": g.instance_type,
                    "subnetId": g.subnet_id,
                    "groupName": g.group_name,
                }
                for g in groups.pools
            ],
            "onDemandGroupName": groups.on_demand_group,
            **{
                key: f"https://sqs.{REGION}.amazonaws.com/123456789012/{key}"
                for key in (
                    "jobQueueUrl",
                    "priorityQueueUrl",
                    "deadLetterQueueUrl",
                    "priorityDeadLetterQueueUrl",
                    "interruptionQueueUrl",
                    "jobEventsQueueUrl",
                )
            },
            "jobEventsTopicArn": "arn:aws:sns:us-east-1:123456789012:events",
            "modelCacheBucket": "models",
            "modelS3Uri": "s3://models/sdxl/",
            "resultsBucket": "results",
            "launchTemplateId": "lt-0abc",
            "launchTemplateVersion": "3",
            "nodeRoleArn": "arn:aws:iam::123456789012:role/node",
            "decisionId": "",
        }
    }
    outputs_file = tmp_path / "outputs.json"
    outputs_file.write_text(json.dumps(outputs))
    return stack_file, outputs_file


def test_the_fleets_are_the_stacks_own(aws: str, tmp_path: Path) -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    subnets = {
        s["AvailabilityZone"]: s["SubnetId"]
        for s in ec2.describe_subnets()["Subnets"]
        if s["AvailabilityZone"] in ("us-east-1a", "us-east-1b")
    }
    stack_file, outputs_file = stack(tmp_path, [subnets["us-east-1a"], subnets["us-east-1b"]])
    settings = DaemonSettings(stack_file=stack_file, stack_outputs=outputs_file)
    [fleet] = with_stack_fleets(settings, lambda region: ec2).fleets
    assert fleet.region == REGION and fleet.subnets == subnets
    assert (fleet.min_nodes, fleet.max_nodes, fleet.budget_usd_per_hour) == (0, 4, 5.0)
    assert fleet.idle_to_zero_s == 1200.0
    pool = "us-east-1/us-east-1b/g5.2xlarge"
    assert fleet.spot_groups[pool] == f"spotfleet-dev-gen-g5.2xlarge-{subnets['us-east-1b']}"
    assert fleet.on_demand_group == "spotfleet-dev-gen-on-demand"
    assert fleet.job_queue_urls[0].endswith("/jobQueueUrl")
    assert fleet.interruption_queue_url and fleet.interruption_queue_url.endswith(
        "/interruptionQueueUrl"
    )
    assert fleet.on_demand_prices["g5.xlarge"] == pytest.approx(1.006)


def test_a_stack_without_outputs_for_a_fleet_says_to_run_pulumi_up(
    aws: str, tmp_path: Path
) -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
    stack_file, outputs_file = stack(tmp_path, [subnet])
    outputs_file.write_text("{}")
    settings = DaemonSettings(stack_file=stack_file, stack_outputs=outputs_file)
    with pytest.raises(DaemonError, match="no outputs for fleet gen: run `pulumi up`"):
        with_stack_fleets(settings, lambda region: ec2)


def test_fleets_declared_by_hand_and_read_from_the_stack_are_refused(tmp_path: Path) -> None:
    from .helpers import FLEET

    stack_file, outputs_file = stack(tmp_path, ["subnet-0aaa1111"])
    settings = DaemonSettings(fleets=(FLEET,), stack_file=stack_file, stack_outputs=outputs_file)
    with pytest.raises(DaemonError, match="keep one"):
        with_stack_fleets(settings, lambda region: None)
