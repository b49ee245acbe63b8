"""What the gpu_node benchmarks share: a local moto server, a fleet of queues, a fake backend.

``FixedImageFakeBackend`` returns one fixed PNG at once. It is a fake, for measuring the
plumbing around the model; it is used by the benchmarks only.
"""

from __future__ import annotations

import io
import json
import logging
import os
import socket
import statistics
import time
import uuid
from dataclasses import dataclass
from typing import Any

import boto3
from moto.server import ThreadedMotoServer
from PIL import Image

from gpu_node.backend import OnStep
from gpu_node.jobs import Job
from gpu_node.settings import NodeSettings

REGION = "us-east-1"


class FixedImageFakeBackend:
    """A fake model: the same small PNG for every job, after reporting every step.

    ``step_seconds`` paces the steps (0: at once), for the benchmarks of a busy node.
    """

    def __init__(self, *, step_seconds: float = 0.0) -> None:
        self._step_seconds = step_seconds
        buffer = io.BytesIO()
        Image.new("RGB", (64, 64), (40, 90, 200)).save(buffer, format="PNG")
        self._png = buffer.getvalue()

    @property
    def model_name(self) -> str:
        return "fixed-image-fake"

    def generate(self, job: Job, on_step: OnStep) -> bytes:
        for step in range(1, job.steps + 1):
            if self._step_seconds:
                time.sleep(self._step_seconds)
            on_step(step, job.steps)
        return self._png


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_moto() -> tuple[ThreadedMotoServer, str]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one log line per request skews timings
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": REGION,
        }
    )
    return server, endpoint


@dataclass
class BenchFleet:
    sqs: Any
    s3: Any
    queue_url: str
    priority_queue_url: str
    bucket: str
    topic_arn: str

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            "SPOTFLEET_QUEUE_URL": self.queue_url,
            "SPOTFLEET_PRIORITY_QUEUE_URL": self.priority_queue_url,
            "SPOTFLEET_RESULTS_BUCKET": self.bucket,
            "SPOTFLEET_EVENTS_TOPIC_ARN": self.topic_arn,
            "SPOTFLEET_INSTANCE_ID": "i-bench",
            "SPOTFLEET_INSTANCE_TYPE": "g5.xlarge",
            "SPOTFLEET_AVAILABILITY_ZONE": "us-east-1a",
            "SPOTFLEET_REGION": REGION,
            "SPOTFLEET_POLL_WAIT_SECONDS": "1",
            "SPOTFLEET_PORT": "0",
            "SPOTFLEET_MODEL_NAME": "fixed-image-fake",
        }
        env.update(extra)
        return env

    def settings(self, **extra: str) -> NodeSettings:
        values: dict[str, Any] = {
            k.removeprefix("SPOTFLEET_").lower(): v for k, v in self.env(**extra).items()
        }
        return NodeSettings(**values)

    def send_jobs(self, count: int, *, prefix: str, steps: int = 2) -> list[str]:
        ids = [f"{prefix}-{n:05d}" for n in range(count)]
        for start in range(0, count, 10):
            entries = [
                {
                    "Id": str(i),
                    "MessageBody": json.dumps(
                        {
                            "job_id": job_id,
                            "prompt": "a cat",
                            "width": 64,
                            "height": 64,
                            "steps": steps,
                            "seed": i,
                        }
                    ),
                }
                for i, job_id in enumerate(ids[start : start + 10])
            ]
            self.sqs.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
        return ids

    def in_flight(self) -> int:
        attrs = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]) + int(
            attrs["ApproximateNumberOfMessagesNotVisible"]
        )

    def result_count(self) -> int:
        paginator = self.s3.get_paginator("list_objects_v2")
        return sum(
            len(page.get("Contents", []))
            for page in paginator.paginate(Bucket=self.bucket, Prefix="results/")
        )


def make_fleet(endpoint: str) -> BenchFleet:
    session = boto3.session.Session(region_name=REGION)
    sqs = session.client("sqs", endpoint_url=endpoint)
    s3 = session.client("s3", endpoint_url=endpoint)
    sns = session.client("sns", endpoint_url=endpoint)
    tag = uuid.uuid4().hex[:8]
    dlq = sqs.create_queue(QueueName=f"bench-dlq-{tag}")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    attrs = {"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3})}
    queue = sqs.create_queue(QueueName=f"bench-{tag}", Attributes=attrs)["QueueUrl"]
    priority = sqs.create_queue(QueueName=f"bench-priority-{tag}", Attributes=attrs)["QueueUrl"]
    bucket = f"bench-results-{tag}"
    s3.create_bucket(Bucket=bucket)
    topic = sns.create_topic(Name=f"bench-events-{tag}")["TopicArn"]
    return BenchFleet(
        sqs=sqs, s3=s3, queue_url=queue, priority_queue_url=priority, bucket=bucket, topic_arn=topic
    )


def describe(samples: list[float], unit: str = "ms", scale: float = 1000.0) -> str:
    ordered = sorted(samples)
    p90 = ordered[int(0.9 * (len(ordered) - 1))]
    return (
        f"median {statistics.median(ordered) * scale:.1f} {unit}, p90 {p90 * scale:.1f} {unit}, "
        f"min {ordered[0] * scale:.1f} {unit}, max {ordered[-1] * scale:.1f} {unit} "
        f"(n={len(ordered)})"
    )
