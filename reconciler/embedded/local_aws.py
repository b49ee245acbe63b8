"""AWS, locally: moto's server on 127.0.0.1 plays AWS for the embedded default.

This is the one place spotfleet creates fleet resources through the AWS API. On AWS the Pulumi
program creates them; the Pulumi engine cannot run here, so the same declaration
(``stacks.layout``, which the Pulumi components build from too) is created directly, and kept
to what the demo needs: queues with their dead-letter queues, the events topic and its queue,
the interruption rules and their queue, the buckets. IAM, launch templates and the group are
the local actuator's business, not AWS's, in the embedded default.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import httpx

from stacks.layout import FleetLayout, QueueLayout

__all__ = ["FleetEndpoints", "LocalAws", "create_fleet", "free_port", "local_aws"]

_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@dataclass(frozen=True, slots=True)
class LocalAws:
    """A running emulation: where it listens and how to reach it."""

    endpoint_url: str
    region: str

    def client(self, service: str) -> Any:
        return boto3.client(
            service, endpoint_url=self.endpoint_url, region_name=self.region, **_CREDENTIALS
        )

    def environ(self) -> dict[str, str]:
        """What a child process needs in its environment to use this emulation as AWS."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ACCESS_KEY_ID": _CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": _CREDENTIALS["aws_secret_access_key"],
        }


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def local_aws(region: str = "us-east-1", *, start_timeout_s: float = 30.0) -> Iterator[LocalAws]:
    """Run moto's server in its own process (nodes and the daemon hit it from many processes,
    so it should not share one interpreter's GIL with any of them) until the block ends."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # a Ctrl-C at the terminal is for the caller to handle
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + start_timeout_s
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"moto's server exited at start (status {server.returncode})")
            with contextlib.suppress(httpx.TransportError):
                httpx.get(f"{endpoint}/moto-api/", timeout=1.0)
                break
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"moto's server did not answer on {endpoint} within {start_timeout_s:.0f} s"
                )
            time.sleep(0.1)
        yield LocalAws(endpoint, region)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@dataclass(frozen=True, slots=True)
class FleetEndpoints:
    """What the stack's outputs give a fleet on AWS, for the same resources created locally."""

    job_queue_url: str
    priority_queue_url: str
    dead_letter_queue_url: str
    priority_dead_letter_queue_url: str
    events_topic_arn: str
    events_queue_url: str
    interruption_queue_url: str
    model_bucket: str
    results_bucket: str
    model_s3_uri: str

    @property
    def job_queue_urls(self) -> tuple[str, str]:
        return (self.job_queue_url, self.priority_queue_url)

    @property
    def dead_letter_queue_urls(self) -> tuple[str, str]:
        return (self.dead_letter_queue_url, self.priority_dead_letter_queue_url)


def _queue(sqs: Any, layout: QueueLayout) -> tuple[str, str]:
    """Create the queue and its dead-letter queue; (queue URL, dead-letter queue URL)."""
    dead_letter_url = sqs.create_queue(
        QueueName=layout.dead_letter.name,
        Attributes={
            "MessageRetentionPeriod": str(layout.dead_letter.message_retention_seconds),
            "SqsManagedSseEnabled": "true",
        },
    )["QueueUrl"]
    dead_letter_arn = _arn(sqs, dead_letter_url)
    url = sqs.create_queue(
        QueueName=layout.name,
        Attributes={
            "VisibilityTimeout": str(layout.visibility_timeout_seconds),
            "MessageRetentionPeriod": str(layout.message_retention_seconds),
            "ReceiveMessageWaitTimeSeconds": str(layout.receive_wait_time_seconds),
            "RedrivePolicy": layout.redrive_policy(dead_letter_arn),
            "SqsManagedSseEnabled": "true",
        },
    )["QueueUrl"]
    return url, dead_letter_url


def _arn(sqs: Any, url: str) -> str:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return str(attributes["Attributes"]["QueueArn"])


def create_fleet(aws: LocalAws, layout: FleetLayout) -> FleetEndpoints:
    """Create one fleet's resources as ``stacks.layout`` declares them (idempotent, as the
    AWS create calls are for identical arguments)."""
    sqs, sns, events, s3 = (aws.client(s) for s in ("sqs", "sns", "events", "s3"))
    job_url, job_dlq_url = _queue(sqs, layout.job_queue)
    priority_url, priority_dlq_url = _queue(sqs, layout.priority_queue)
    events_url, _ = _queue(sqs, layout.events_queue)
    interruption_url, _ = _queue(sqs, layout.interruption_queue)

    topic_arn = sns.create_topic(Name=layout.events_topic)["TopicArn"]
    sns.subscribe(
        TopicArn=topic_arn,
        Protocol="sqs",
        Endpoint=_arn(sqs, events_url),
        Attributes={"RawMessageDelivery": "true"},
    )
    interruption_arn = _arn(sqs, interruption_url)
    for rule in layout.interruption_rules:
        events.put_rule(Name=rule.name, EventPattern=rule.event_pattern_json, State="ENABLED")
        events.put_targets(
            Rule=rule.name, Targets=[{"Id": "interruptions", "Arn": interruption_arn}]
        )

    for bucket in (layout.model_bucket, layout.results_bucket):
        # As AWS: outside us-east-1 a bucket names its region.
        where = (
            {}
            if aws.region == "us-east-1"
            else {"CreateBucketConfiguration": {"LocationConstraint": aws.region}}
        )
        s3.create_bucket(Bucket=bucket.name, **where)
        if bucket.versioned:
            s3.put_bucket_versioning(
                Bucket=bucket.name, VersioningConfiguration={"Status": "Enabled"}
            )
        if bucket.expiry_days:
            s3.put_bucket_lifecycle_configuration(
                Bucket=bucket.name,
                LifecycleConfiguration={
                    "Rules": [
                        {
                            "ID": "expire-results",
                            "Status": "Enabled",
                            "Filter": {"Prefix": ""},
                            "Expiration": {"Days": bucket.expiry_days},
                        }
                    ]
                },
            )
    return FleetEndpoints(
        job_queue_url=job_url,
        priority_queue_url=priority_url,
        dead_letter_queue_url=job_dlq_url,
        priority_dead_letter_queue_url=priority_dlq_url,
        events_topic_arn=topic_arn,
        events_queue_url=events_url,
        interruption_queue_url=interruption_url,
        model_bucket=layout.model_bucket.name,
        results_bucket=layout.results_bucket.name,
        model_s3_uri=layout.model_s3_uri,
    )
