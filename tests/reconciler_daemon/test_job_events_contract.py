"""The node's own job events (gpu_node.events), published to SNS as a node does, reach the
jobs table through the events queue: the contract between the two parts, end to end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from gpu_node.events import JobEvent, JobEventType, SnsPublisher
from reconciler.collect.job_events import consume_job_events
from reconciler.core.history.ledger import Ledger
from tests.history_rows import history_rows

from .conftest import REGION, make_aws_fleet


def test_node_events_via_sns_and_sqs_land_in_jobs(aws: str, ledger: Ledger) -> None:
    f = make_aws_fleet()
    url = f.fleet.job_events_queue_url
    assert url is not None
    sns = boto3.client("sns", region_name=REGION)
    topic = sns.create_topic(Name="spotfleet-gen-events")["TopicArn"]
    queue_arn = f.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    publisher = SnsPublisher(sns=sns, topic_arn=topic)
    t0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    common: dict[str, Any] = {
        "job_id": "job-7",
        "message_id": "m-7",
        "instance_id": "i-0abc",
        "instance_type": "g5.xlarge",
        "pool": "us-east-1/us-east-1a/g5.xlarge",
        "fleet": "gen",
        "model": "sd-turbo",
    }
    publisher.publish(JobEvent(type=JobEventType.STARTED, at=t0, started_at=t0, **common))
    publisher.publish(
        JobEvent(
            type=JobEventType.PROGRESS,
            at=t0 + timedelta(seconds=5),
            step=2,
            total_steps=4,
            **common,
        )
    )
    publisher.publish(
        JobEvent(
            type=JobEventType.COMPLETED,
            at=t0 + timedelta(seconds=9),
            finished_at=t0 + timedelta(seconds=9),
            seconds=9.0,
            **common,
        )
    )
    assert consume_job_events(ledger, f.sqs, url) == 3
    rows = history_rows(ledger, "SELECT state, fleet, pool, model, seconds, instance_id FROM jobs")
    assert rows == [("completed", "gen", common["pool"], "sd-turbo", 9.0, "i-0abc")]
    assert ledger.seconds_per_job("gen", t0 - timedelta(hours=1)) == 9.0
