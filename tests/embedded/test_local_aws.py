from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml  # type: ignore[import-untyped]

from analytics.events import parse_envelope
from analytics.kinds import Kind
from reconciler.embedded.local_aws import FleetEndpoints, LocalAws, create_fleet, local_aws
from stacks.layout import fleet_layout
from stacks.naming import AwsAccount
from stacks.spec import parse_fleets

REPO = Path(__file__).resolve().parents[2]
ACCOUNT = AwsAccount(account_id="123456789012", region="us-east-1")


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAws]:
    with local_aws() as running:
        yield running


@pytest.fixture(scope="module")
def fleets(aws: LocalAws) -> dict[str, FleetEndpoints]:
    """Both fleets of the example stack file, created from the declaration the program reads."""
    config = yaml.safe_load((REPO / "Pulumi.dev.yaml").read_text())["config"]
    return {
        fleet.name: create_fleet(aws, fleet_layout(fleet, prefix="demo", account=ACCOUNT))
        for fleet in parse_fleets(config["spotfleet:fleets"])
    }


def receive(aws: LocalAws, url: str, wait: int = 2) -> list[dict]:
    return (
        aws.client("sqs")
        .receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait)
        .get("Messages", [])
    )


def test_every_declared_fleet_gets_its_own_queues_topic_and_buckets(
    aws: LocalAws, fleets: dict[str, FleetEndpoints]
) -> None:
    assert set(fleets) == {"gen", "batch"}
    gen, batch = fleets["gen"], fleets["batch"]
    assert gen.job_queue_url.endswith("/demo-gen-jobs") and batch.job_queue_url.endswith(
        "/demo-batch-jobs"
    )
    attributes = aws.client("sqs").get_queue_attributes(
        QueueUrl=batch.job_queue_url, AttributeNames=["All"]
    )["Attributes"]
    assert attributes["VisibilityTimeout"] == "1800"  # the batch fleet's own job settings
    redrive = json.loads(attributes["RedrivePolicy"])
    assert (
        redrive["deadLetterTargetArn"].endswith(":demo-batch-jobs-dlq")
        and redrive["maxReceiveCount"] == 3
    )
    buckets = {b["Name"] for b in aws.client("s3").list_buckets()["Buckets"]}
    assert {
        gen.model_bucket,
        gen.results_bucket,
        batch.model_bucket,
        batch.results_bucket,
    } <= buckets
    versioning = aws.client("s3").get_bucket_versioning(Bucket=gen.model_bucket)
    assert versioning["Status"] == "Enabled"


def test_a_spot_notice_on_the_bus_reaches_the_interruption_queue_as_aws_sends_it(
    aws: LocalAws, fleets: dict[str, FleetEndpoints]
) -> None:
    aws.client("events").put_events(
        Entries=[
            {
                "Source": "aws.ec2",
                "DetailType": "EC2 Spot Instance Interruption Warning",
                "Detail": json.dumps({"instance-id": "i-0abc", "instance-action": "terminate"}),
            },
            {
                "Source": "aws.ec2",
                "DetailType": "EC2 AMI State Change",
                "Detail": "{}",
            },  # no rule: not delivered
        ]
    )
    [message] = receive(aws, fleets["gen"].interruption_queue_url)
    [event] = parse_envelope(message["Body"])
    assert (event.kind, event.instance_id, event.detail) == (
        Kind.SPOT_INTERRUPTION_WARNING,
        "i-0abc",
        "terminate",
    )
    # Interruption rules are account-wide: every fleet's queue hears it (the daemon filters).
    assert len(receive(aws, fleets["batch"].interruption_queue_url)) == 1


def test_a_job_received_too_often_is_redriven_to_the_dead_letter_queue(
    aws: LocalAws, fleets: dict[str, FleetEndpoints]
) -> None:
    sqs, gen = aws.client("sqs"), fleets["gen"]
    sqs.send_message(QueueUrl=gen.job_queue_url, MessageBody='{"job_id": "poison"}')
    for _ in range(3):  # maxReceiveCount 3: received and abandoned three times
        [message] = receive(aws, gen.job_queue_url)
        sqs.change_message_visibility(
            QueueUrl=gen.job_queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )
    assert receive(aws, gen.job_queue_url, wait=1) == []
    [dead] = receive(aws, gen.dead_letter_queue_url)
    assert json.loads(dead["Body"]) == {"job_id": "poison"}


def test_job_events_published_to_the_topic_arrive_raw_on_the_daemons_queue(
    aws: LocalAws, fleets: dict[str, FleetEndpoints]
) -> None:
    body = {"type": "completed", "job_id": "j-1"}
    aws.client("sns").publish(TopicArn=fleets["gen"].events_topic_arn, Message=json.dumps(body))
    [message] = receive(aws, fleets["gen"].events_queue_url)
    assert json.loads(message["Body"]) == body
